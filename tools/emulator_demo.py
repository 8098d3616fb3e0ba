"""`make demo`: the demo user calls execute_strategy on the emulators for all four asset
classes, waits for each fill to be mirrored into portfolio history, and prints a table; then an
order larger than the touch fills in parts and completes on later reconciler runs."""

from __future__ import annotations

import sys
import time
import uuid

from google.cloud.firestore_v1.base_query import FieldFilter

from tools.emulator_client import CallResult, call, firestore_rest, run_scheduled, sign_in
from tools.emulators import (
    ENDPOINTS,
    ROOT,
    EmulatorError,
    client_environment,
    remove_test_overrides,
    running_emulators,
)

DEMO_EMAIL, DEMO_PASSWORD = "demo@example.com", "demo-password"
MIRROR_TIMEOUT_S = 30

REQUESTS = [
    {"strategy_id": "manual", "symbol": "AAPL", "side": "buy", "qty": 10},
    {"strategy_id": "manual", "symbol": "EUR/USD", "side": "buy", "qty": 10_000},
    {"strategy_id": "manual", "symbol": "BTC/USD", "side": "buy", "qty": 0.5},
    {"strategy_id": "manual", "symbol": "ETH/USD", "side": "buy", "qty": 2},
    {"strategy_id": "manual", "symbol": "USD/JPY", "side": "buy", "qty": 1_000},
    {"strategy_id": "manual", "symbol": "AAPL271217C00190000", "side": "buy", "qty": 1},
    {"strategy_id": "crypto_momentum", "symbol": "SOL/USD", "qty": 5},
    {"strategy_id": "manual", "symbol": "AAPL", "side": "sell", "qty": 4},
]
# F shows 100 shares at the touch (functions/.env.demo-smart-routing): 250 fill in parts.
IN_PARTS = {"strategy_id": "manual", "symbol": "F", "side": "buy", "qty": 250}
RECONCILER_RUNS = 5
COLUMNS = (
    "symbol", "class", "signal", "spread", "threshold", "decision", "status", "currency",
    "history",
)  # fmt: skip


def main() -> int:
    remove_test_overrides()  # a killed venue test run must not point the demo at its fakes
    try:
        with (
            client_environment(),
            running_emulators(ROOT / "emulator-data", ROOT / ".cache" / "emulators-demo.log"),
        ):
            rows = run()
            print_table(rows)
            parts_ok = run_in_parts()
    except EmulatorError as exc:
        print(f"demo: the emulators could not start: {exc}", file=sys.stderr)
        return 1
    # The demo's emulators are stopped by now: `make serve` starts them again with the page.
    print(f"Open the web app with `make serve`: http://{ENDPOINTS['hosting'].address}/")
    return 0 if parts_ok and all(row["history"] != "MISSING" for row in rows) else 1


def run() -> list[dict[str, str]]:
    user = sign_in(DEMO_EMAIL, DEMO_PASSWORD)
    rows = []
    for data in REQUESTS:
        outcome = call(
            "execute_strategy", {**data, "idempotency_key": uuid.uuid4().hex}, user.id_token
        )
        rows.append(row(data, outcome, user.uid, user.id_token))
    return rows


def row(data: dict, outcome: CallResult, uid: str, id_token: str) -> dict[str, str]:
    if outcome.error is not None:
        return dict.fromkeys(COLUMNS, "-") | {
            "symbol": data["symbol"], "status": f"{outcome.code}: {outcome.error['message']}"
        }  # fmt: skip
    result = outcome.result
    routing = result["routing"] or {}
    spread = routing.get("spread_pct")
    return {
        "symbol": result["signal"]["symbol"],
        "class": result["signal"]["asset_class"],
        "signal": result["signal"]["signal_type"],
        "spread": "n/a" if spread is None else f"{spread:.3%}",
        "threshold": f"{routing['threshold_pct']:.2%}" if routing else "n/a",
        "decision": routing["action"].upper() if routing else "n/a",
        "status": result["status"],
        "currency": result["currency"] or "-",
        "history": wait_for_history(uid, result["trade_id"], id_token),
    }


def wait_for_history(uid: str, trade_id: str | None, id_token: str) -> str:
    """Read the mirrored record as the user would, through the security rules: "written",
    with a sell's realized gain (FIFO) when it has one."""
    if trade_id is None:
        return "-"
    deadline = time.monotonic() + MIRROR_TIMEOUT_S
    path = f"users/{uid}/portfolio/history/trades/{trade_id}"
    while time.monotonic() < deadline:
        response = firestore_rest("GET", path, id_token)
        if response.status_code == 200:
            gain = response.json()["fields"].get("realized_gain", {})
            number = gain.get("doubleValue", gain.get("integerValue"))
            return "written" if number is None else f"written, realized gain {float(number):,.2f}"
        time.sleep(0.25)
    return "MISSING"


def run_in_parts() -> bool:
    """Buy more than the touch shows; the reconciler (right after the submission, then on its
    scheduled runs) fills the rest. Each part is its own ledger trade and history record."""
    from smart_routing_firebase.platform.app import firestore_client

    db = firestore_client()
    user = sign_in(DEMO_EMAIL, DEMO_PASSWORD)
    data = {**IN_PARTS, "idempotency_key": uuid.uuid4().hex}
    result = call("execute_strategy", data, user.id_token).result
    order = result["order"]
    print(f"\nF: buy 250, the touch shows 100: {result['status']}, "
          f"{order['filled_qty']:g} filled at submission")  # fmt: skip
    tenant = db.document(f"users/{user.uid}/portfolio/account").get().get("tenant_id")
    order_ref = db.document(f"tenants/{tenant}/orders/{order['client_order_id']}")
    for run in range(1, RECONCILER_RUNS + 1):
        response = run_scheduled("reconcile_venues")
        stored = order_ref.get().to_dict()
        print(f"  reconciler run {run} ({response.status_code}): {stored['status']}, "
              f"{stored['filled_qty']:g} of 250 filled")  # fmt: skip
        if stored["status"] == "filled":
            break
    trades = db.collection(f"tenants/{tenant}/ledger_trades").where(
        filter=FieldFilter("client_order_id", "==", order["client_order_id"])
    )
    histories = []
    for trade in sorted(trades.stream(), key=lambda t: t.get("timestamp")):
        histories.append(wait_for_history(user.uid, trade.id, user.id_token))
        print(f"  trade {trade.id}: {trade.get('qty'):g} at {trade.get('price')} "
              f"{trade.get('currency')}, history {histories[-1]}")  # fmt: skip
    return stored["status"] == "filled" and "MISSING" not in histories


def print_table(rows: list[dict[str, str]]) -> None:
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in COLUMNS}
    print("  ".join(c.upper().ljust(widths[c]) for c in COLUMNS))
    for r in rows:
        print("  ".join(r[c].ljust(widths[c]) for c in COLUMNS))


if __name__ == "__main__":
    sys.exit(main())
