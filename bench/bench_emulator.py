"""Benchmarks on the real emulators. Prints one `BENCH name=value` line per figure.

callable_buy_p50_ms        execute_strategy: a manual buy of 1 AAPL with a fresh
                           idempotency_key, on the paper venue, round trip from this process
callable_buy_p90_ms        the same, 90th percentile
mirror_10th_trade_ms       the mirror of one user's 10th trade in one symbol, in-process
                           against the Firestore emulator (one transaction)
mirror_10001st_trade_ms    the same for the 10,001st trade: the lots document holds the state
                           of 10,000 trades before it (built with the pure lot logic)
mirror_cost_ratio          10,001st over 10th; the target is at most 2
"""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from smart_routing.ledger import LedgerTrade
from smart_routing.portfolio import LotState, apply_trade
from smart_routing.trading_calendar import trading_date
from tools.emulator_client import call, new_user
from tools.emulators import ROOT, client_environment, running_emulators

CALLS = 40
MIRROR_RUNS = 15
START = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def bench_callable() -> dict[str, float]:
    user = new_user(f"bench-{uuid.uuid4().hex[:8]}")
    data = {"strategy_id": "manual", "symbol": "AAPL", "side": "buy", "qty": 1}
    call("execute_strategy", {**data, "idempotency_key": "warm-up"}, user.id_token)
    samples = []
    for n in range(CALLS):
        started = time.perf_counter()
        outcome = call("execute_strategy", {**data, "idempotency_key": f"b-{n}"}, user.id_token)
        samples.append((time.perf_counter() - started) * 1000)
        assert outcome.result and outcome.result["status"] == "filled", outcome
    samples.sort()
    return {
        "callable_buy_p50_ms": statistics.median(samples),
        "callable_buy_p90_ms": samples[int(len(samples) * 0.9) - 1],
    }


def trade(uid: str, n: int) -> LedgerTrade:
    at = START + timedelta(seconds=n)
    side, qty = ("buy", Decimal(2)) if n % 2 else ("sell", Decimal(1))
    price = Decimal(100 + n % 7)
    return LedgerTrade(
        trade_id=f"bench-{n:06d}", tenant_id="bench", uid=uid, symbol="AAPL",
        asset_class="EQUITY", side=side, qty=qty, price=price, notional=qty * price,
        fees=Decimal(0), currency="USD", estimated_slippage=None, strategy_id="manual",
        timestamp=at, trading_date=trading_date("EQUITY", at), broker="paper",
        broker_order_id=f"p-{n}", client_order_id=f"bench-{n:06d}",
    )  # fmt: skip


def mirror_ms(db, history: int) -> float:
    """The median time to mirror trade history+1 onto a lots document holding `history`."""
    from smart_routing_firebase import paths
    from smart_routing_firebase.portfolio_mirror import _lots_document, mirror_trade

    samples = []
    state = LotState()
    uid = "bench-state"
    for n in range(1, history + 1):
        state = apply_trade(state, trade(uid, n)).state
    for run in range(MIRROR_RUNS):
        uid = f"bench-{history}-{run}-{uuid.uuid4().hex[:6]}"
        db.document(paths.tax_lots(uid, "AAPL")).set(_lots_document(trade(uid, history), state))
        following = trade(uid, history + 1)
        started = time.perf_counter()
        mirror_trade(db, following)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    with (
        client_environment(),
        running_emulators(ROOT / "emulator-data", ROOT / ".cache" / "emulators-bench.log"),
    ):
        from smart_routing_firebase.app import firestore_client

        db = firestore_client()  # also initializes the Admin SDK that signs users up
        figures = bench_callable()
        figures["mirror_10th_trade_ms"] = mirror_ms(db, 9)
        figures["mirror_10001st_trade_ms"] = mirror_ms(db, 10_000)
        figures["mirror_cost_ratio"] = (
            figures["mirror_10001st_trade_ms"] / figures["mirror_10th_trade_ms"]
        )
    for name, value in figures.items():
        print(f"BENCH {name}={value:.2f}")


if __name__ == "__main__":
    main()
