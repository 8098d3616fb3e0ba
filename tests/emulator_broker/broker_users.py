"""What the Broker API tests on the emulators share: a tenant's admin, the admin's link, a
user's order, a user's position of record, a run of the reconciler until it gets somewhere,
and a fresh equity symbol on the fakes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tools.emulator_client import CallResult, User, call, new_admin, new_user, run_scheduled
from tools.fakes.alpaca import FakeAlpaca, equity_asset
from tools.fakes.alpaca_broker import FakeAlpacaBroker
from tools.waiting import wait_until

RECONCILE_WAIT_S = 60  # the stream's newest events are read once they settle (SETTLE_LAG)


def linked_user(broker: FakeAlpacaBroker, prefix: str) -> tuple[str, User, User, str]:
    """A new tenant (its id starts with `prefix`), its admin, a user of it, and the account at
    the Broker API fake the admin linked the user to."""
    tenant = f"{prefix}-{uuid.uuid4().hex[:8]}"
    admin, user = new_admin(tenant), new_user(tenant)
    account = broker.add_account()
    assert link(admin, user.uid, account).result["changed"] is True
    return tenant, admin, user, account


def link(admin: User, uid: str, account_id: str) -> CallResult:
    return call("link_venue_account", {"uid": uid, "venue": "alpaca", "account_id": account_id},
                admin.id_token)  # fmt: skip


def trade(user: User, symbol: str, side: str, qty: float) -> CallResult:
    data = {"strategy_id": "manual", "symbol": symbol, "side": side, "qty": qty}
    return call("execute_strategy", data, user.id_token)


def position_qty(db: Any, user: User, symbol: str) -> Decimal | None:
    snapshot = db.document(f"users/{user.uid}/portfolio/positions/symbols/{symbol}").get()
    return Decimal(str(snapshot.to_dict()["qty"])) if snapshot.exists else None


def reconcile_until(check: Callable[[], Any]) -> None:
    """Run the scheduled reconciler until `check()` holds (a positive signal), or fail."""

    def run_then_check() -> bool:
        response = run_scheduled("reconcile_venues")
        assert response.status_code == 200, response.text
        return bool(check())

    wait_until(
        run_then_check,
        RECONCILE_WAIT_S,
        interval_s=1,
        describe=lambda _: "the reconciler did not get there in time",
    )


def new_symbol(market: FakeAlpaca, broker: FakeAlpacaBroker) -> str:
    """An equity no other test trades, listed by both fakes, quoted at 100.00 / 100.02 and
    filled at the ask."""
    name = "B" + "".join(chr(65 + b % 26) for b in uuid.uuid4().bytes[:3])
    market.assets[name] = equity_asset(name)
    broker.assets[name] = equity_asset(name)
    market.set_quote(name, 100.00, 100.02)
    broker.prices[name] = Decimal("100.02")
    return name
