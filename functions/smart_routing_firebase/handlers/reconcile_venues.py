"""The reconcile_venues schedule: one reconciler run over every venue account in use."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from smart_routing import logs
from smart_routing_firebase.platform.services import services
from smart_routing_firebase.reconciliation.limit_expiry import LimitExpiry
from smart_routing_firebase.reconciliation.markouts import handle_markouts
from smart_routing_firebase.reconciliation.order_refresh import now_or_current, refresh_orders
from smart_routing_firebase.reconciliation.paper_orders import PaperReconciler
from smart_routing_firebase.reconciliation.user_drift import drift_report
from smart_routing_firebase.reconciliation.venue_fills import VenueReconciler


def handle_reconcile(now: datetime | None = None) -> Counter[str]:
    """One reconciler run over every venue account in use: fallback limits past their time to
    live canceled (as of `now`, the run's scheduled time, or the current time when later),
    real venues' fills, the paper venue's working orders, and the orders left unknown. A
    failing venue is logged and retried next run; the others still run."""
    svc = services()
    tally: Counter[str] = Counter()
    as_of = now_or_current(now)
    expiry = LimitExpiry(svc.db, svc.venues.broker, svc.venues.paper, as_of)
    steps: list[tuple[str, Any]] = [("limit_expiry", expiry)]
    steps += [
        (
            source.venue,
            VenueReconciler(
                svc.db, source, svc.venues.instruments, svc.config.fees, broker=svc.venues.broker
            ),
        )
        for source in svc.venues.fill_sources
    ]
    paper = svc.venues.paper
    steps.append(
        ("paper", PaperReconciler(svc.db, paper, svc.paper_accounts, paper.instruments,
                                  svc.config.fees))
    )  # fmt: skip
    steps += [(f"{s.venue}.drift", drift_report(svc.db, s.venue, svc.venues))
              for s in svc.venues.fill_sources]  # fmt: skip
    for venue, reconciler in steps:
        try:
            tally.update({f"{venue}.{key}": n for key, n in reconciler.run().items()})
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
