"""`make demo`: the demo user calls execute_strategy on the emulators for all four asset
classes, waits for each fill to be mirrored into portfolio history, and prints a table."""

from __future__ import annotations

import sys
import time
import uuid

from tools.emulator_client import CallResult, call, firestore_rest, sign_in
from tools.emulators import ROOT, EmulatorError, remove_test_overrides, running_emulators

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
COLUMNS = (
    "symbol", "class", "signal", "spread", "threshold", "decision", "status", "currency",
    "history",
)  # fmt: skip


def main() -> int:
    remove_test_overrides()  # a killed venue test run must not point the demo at its fakes
    try:
        with running_emulators(ROOT / "emulator-data", ROOT / ".cache" / "emulators-demo.log"):
            rows = run()
    except EmulatorError as exc:
        print(f"demo: the emulators could not start: {exc}", file=sys.stderr)
        return 1
    print_table(rows)
    return 0 if all(row["history"] != "MISSING" for row in rows) else 1


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


def print_table(rows: list[dict[str, str]]) -> None:
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in COLUMNS}
    print("  ".join(c.upper().ljust(widths[c]) for c in COLUMNS))
    for r in rows:
        print("  ".join(r[c].ljust(widths[c]) for c in COLUMNS))


if __name__ == "__main__":
    sys.exit(main())
