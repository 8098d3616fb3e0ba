"""The reconcile_venues schedule: one reconciler run over every venue account in use. The
work that is one call per venue (fill streams, limit expiry, order-refresh pages, markouts)
runs here; the work per linked venue account (Alpaca's Broker API: each user's drift) is
fanned out on the reconcilevenueaccount queue (reconciliation/account_fanout.py), so the run
returns in seconds however many accounts are linked."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from smart_routing import logs
from smart_routing_firebase.handlers.run_scheduled_strategies import schedule_tick
from smart_routing_firebase.platform.services import services
from smart_routing_firebase.reconciliation.account_fanout import (
    accounts_every_min,
    start_fan_out,
)
from smart_routing_firebase.reconciliation.drift import DriftReport
from smart_routing_firebase.reconciliation.limit_expiry import LimitExpiry
from smart_routing_firebase.reconciliation.markouts import handle_markouts
from smart_routing_firebase.reconciliation.order_refresh import now_or_current, refresh_orders
from smart_routing_firebase.reconciliation.paper_orders import PaperReconciler
from smart_routing_firebase.reconciliation.user_drift import per_user_venue
from smart_routing_firebase.reconciliation.venue_fills import VenueReconciler


def handle_reconcile(now: datetime | None = None) -> Counter[str]:
    """One reconciler run over every venue account in use: fallback limits past their time to
    live canceled (as of `now`, the run's scheduled time, or the current time when later),
    real venues' fills, the paper venue's working orders, and the orders left unknown, and
    the per-account work of a venue with one account per user enqueued. A failing venue is
    logged and retried next run; the others still run."""
    svc = services()
    tally: Counter[str] = Counter()
    as_of = now_or_current(now)
    expiry = LimitExpiry(svc.db, svc.venues.broker, svc.venues.paper, as_of)
    steps: list[tuple[str, Callable[[], Counter[str]]]] = [("limit_expiry", expiry.run)]
    steps += [
        (
            source.venue,
            VenueReconciler(
                svc.db, source, svc.venues.instruments, svc.config.fees, broker=svc.venues.broker
            ).run,
        )
        for source in svc.venues.fill_sources
    ]
    paper = svc.venues.paper
    steps.append(
        ("paper", PaperReconciler(svc.db, paper, svc.paper_accounts, paper.instruments,
                                  svc.config.fees).run)
    )  # fmt: skip
    steps += [_drift_step(svc, source.venue, schedule_tick(now or as_of))
              for source in svc.venues.fill_sources]  # fmt: skip
    for venue, step in steps:
        try:
            tally.update({f"{venue}.{key}": n for key, n in step().items()})
        except Exception as exc:  # one venue down must not stop the others
            tally[f"{venue}.failed"] += 1
            logs.log_event(logs.LogEvent.RECONCILE_FAILED, severity="ERROR", venue=venue,
                           error=logs.redact(f"{type(exc).__name__}: {exc}"))  # fmt: skip
    try:
        tally.update(refresh_orders(svc.db, svc.venues.broker, as_of))
    except Exception as exc:  # logged; the next run asks again
        tally["refresh.failed"] += 1
        logs.log_event(logs.LogEvent.RECONCILE_FAILED, severity="ERROR", step="refresh_orders",
                       error=logs.redact(f"{type(exc).__name__}: {exc}"))  # fmt: skip
    tally.update(handle_markouts(svc.db, svc.venues.market_data, svc.config.routing))
    logs.log_counts(logs.LogEvent.RECONCILE_SUMMARY, {k: v for k, v in tally.items() if v})
    return tally


def _drift_step(svc: Any, venue: str, run: datetime) -> tuple[str, Callable[[], Counter[str]]]:
    """A venue with one account per user: the run's account tasks enqueued (their pages and
    accounts as tasks of their own). One platform account: its drift, one read."""
    per_user = per_user_venue(svc.venues)
    if per_user is not None and per_user.name == venue:
        every = accounts_every_min(os.environ)
        return f"{venue}.accounts", lambda: start_fan_out(svc.db, venue, run, every_min=every)
    return f"{venue}.drift", DriftReport(svc.db, venue, svc.venues.broker).run
