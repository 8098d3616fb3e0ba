"""Benchmarks on the real emulators. Prints one `BENCH name=value` line per figure.

callable_buy_p50_ms        execute_strategy: a manual buy of 1 AAPL with a fresh
                           idempotency_key, on the paper venue, round trip from this process
callable_buy_p90_ms        the same, 90th percentile
callable_bare_p50_ms       the bare callable round trip in the same run: execute_strategy
                           answering invalid-argument (no symbol) before any Firestore access
                           (the functions emulator, the ID token check, the protocol)
callable_buy_over_bare     callable_buy_p50_ms / callable_bare_p50_ms (target: at most 4)
callable_plain_buy_p50_ms  the same buy without an idempotency_key
callable_{bare,buy}_cold_p50_ms  the same figures for the first 40 rounds on fresh emulators,
                           which bench_callable does not time otherwise (see there)
history_visible_after_return_p50_ms  from the keyed buy's return until its history record
                           (written by the mirror trigger) can be read
burst{20,40}_filled        one new user's 20 (40) keyed 1-share buys sent at once: how many
burst{20,40}_aborted       filled, were refused `aborted` (nothing placed, retry with the key),
burst{20,40}_other         or said anything else (must be 0); and when the last answer came
burst{20,40}_last_answer_ms
trade_{buy,sell}_order_{reads,writes,deletes,commits}  Firestore operations of one keyed paper order
                           (its account existing), counted on the client as the callable's
                           handler runs in-process against the Firestore emulator
trade_{buy,sell}_mirror_{reads,writes,deletes}  the same for the mirror of that trade (its
                           writes include its deletes: the marker, a lot a sell closes)
mirror_10th_trade_ms       the mirror of one user's 10th trade in one symbol (a sell), in-process
                           against the Firestore emulator (one transaction), timed with the
                           same documents in the emulator as the 10,001st (see bench_mirror)
mirror_10001st_trade_ms    the same for the 10,001st trade (a buy): the lots head and the 2,500
                           open lot documents hold the state of the 10,000 trades before it
                           (built with the pure lot logic)
mirror_cost_ratio          10,001st over 10th; the target is at most 2
mirror_10001st_sell_ms     the 10,001st trade made a sell of 1, which reads the oldest lots
mirror_sell_cost_ratio     that over the 10th (also a sell)
reconciler_fills_per_s     venue fills recorded per second: the reconciler reads 2,000 FILL
                           activities through alpaca-py from the loopback Alpaca fake (100 per
                           page, as Alpaca pages) and writes one ledger trade per fill and each
                           order's new state into the Firestore emulator (run alone: the mirror
                           triggers those trades fire are the mirror's cost, measured above)
reconciler_rerun_added     ledger trades a second run over the same fills added (must be 0)
tca_rollup_ms              the TCA roll-up of one tenant's day (smart_routing_firebase.
                           tca_rollup): 2,000 ledger trades, 3,000 decisions (1,000 of them
                           downgrades) and the 2,000 orders' fill state read, aggregated by
                           asset class, venue and strategy, and the tca_daily document written
tca_rollup_rerun_ms        the same day rolled up again (a redelivered run): same reads, no write
one_instance_buys_per_s    one execute_strategy instance as deployed (functions-framework,
                           gunicorn, 80 threads: the manifest's concurrency), 80 clients each
                           sending 10 keyed 1-share buys back to back (after one to warm
                           up), on the Auth and Firestore emulators of the same machine
                           (which share its CPUs)
one_instance_cpu_ms_per_buy  the instance process's own CPU time (user + system) per buy in
                           that run: one vCPU serves at most 1000 / this buys a second
one_instance_buy_p50_ms    the round trip of those buys, median, at 80 in flight
one_instance_commit_retries_per_buy  commits of those buys refused and tried again: the 80
                           clients are users of one tenant, so nearly all are its rate tokens
                           taken again because another order took from the same one of its
                           20 shards first (stores/one_commit.py, retakeable)
one_instance_spread_*      the same with each client a user of its own tenant (no shard
                           shared): the instance's cost without that contention
sweep_trades_per_s         trades mirrored per second by sweep_unmirrored_trades alone (run
                           in-process against the Firestore emulator): 400 ledger trades of
                           40 users, with their markers, none mirrored before
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import requests

from smart_routing.market.trading_calendar import trading_date
from smart_routing.portfolio.ledger import LedgerTrade
from smart_routing.portfolio.lots import LotState, apply_trade
from tools.emulator_client import CallResult, call, new_user
from tools.emulators import ROOT, client_environment, running_emulators

CALLS = 40
WARM_UP = 100  # rounds of the three calls before bench_callable times any
MIRROR_RUNS = 15
SEED_BATCH = 500
START = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def bench_callable(db) -> dict[str, float]:
    """The three calls interleaved, so the machine's load weighs on each alike; each buy's
    mirror trigger has finished before the next call, so no call is timed beside another's
    mirror (on two cores the emulators' work for one trade would land on the next call).
    The first WARM_UP rounds are not in the figures: on fresh emulators the JVM and Node
    compile their hot paths during the first hundred calls or so, and a deployed service
    answers its calls warm. The first CALLS of them are printed as the _cold_ figures."""
    user = new_user(f"bench-{uuid.uuid4().hex[:8]}")
    data = {"strategy_id": "manual", "symbol": "AAPL", "side": "buy", "qty": 1}
    bare, keyed, plain, visible = [], [], [], []
    for n in range(WARM_UP + CALLS):
        outcome, ms = timed_call({"strategy_id": "manual"}, user.id_token)
        assert outcome.code == "INVALID_ARGUMENT", outcome
        bare.append(ms)
        outcome, ms = timed_call({**data, "idempotency_key": f"b-{n}"}, user.id_token)
        assert outcome.result and outcome.result["status"] == "filled", outcome
        keyed.append(ms)
        visible.append(ms_until_visible(db, user.uid, outcome.result["trade_id"]))
        outcome, ms = timed_call(data, user.id_token)
        assert outcome.result and outcome.result["status"] == "filled", outcome
        plain.append(ms)
        ms_until_visible(db, user.uid, outcome.result["trade_id"])  # its mirror done, too
    cold_bare, cold_keyed = bare[:CALLS], keyed[:CALLS]
    bare, keyed, plain, visible = (x[WARM_UP:] for x in (bare, keyed, plain, visible))
    keyed.sort()
    return {
        "callable_bare_p50_ms": statistics.median(bare),
        "callable_buy_p50_ms": statistics.median(keyed),
        "callable_buy_p90_ms": keyed[int(len(keyed) * 0.9) - 1],
        "callable_buy_over_bare": statistics.median(keyed) / statistics.median(bare),
        "callable_plain_buy_p50_ms": statistics.median(plain),
        "history_visible_after_return_p50_ms": statistics.median(visible),
        "callable_bare_cold_p50_ms": statistics.median(cold_bare),
        "callable_buy_cold_p50_ms": statistics.median(cold_keyed),
    }


def timed_call(data: dict, id_token: str) -> tuple[CallResult, float]:
    started = time.perf_counter()
    outcome = call("execute_strategy", data, id_token)
    return outcome, (time.perf_counter() - started) * 1000


def ms_until_visible(db, uid: str, trade_id: str) -> float:
    """From the callable's return until the mirror's history record can be read."""
    from smart_routing_firebase.stores import paths

    started = time.perf_counter()
    record = db.document(paths.history_trade(uid, trade_id))
    while not record.get().exists:
        assert time.perf_counter() - started < 60, f"{trade_id} not mirrored within 60 s"
    return (time.perf_counter() - started) * 1000


def bench_burst(db) -> dict[str, float]:
    """One user's keyed 1-share buys sent all at once (20, and the 40 of issue 21): how many
    filled, how many were refused `aborted` (nothing placed), how many said anything else
    (must be 0), and when the last answer came."""
    from concurrent.futures import ThreadPoolExecutor

    figures: dict[str, float] = {}
    for size in (20, 40):
        user = new_user(f"burst-{uuid.uuid4().hex[:8]}")
        data = {"strategy_id": "manual", "symbol": "AAPL", "side": "buy", "qty": 1}
        keyed = [{**data, "idempotency_key": f"k{n}"} for n in range(size)]
        token = user.id_token
        started = time.perf_counter()
        with ThreadPoolExecutor(size) as pool:
            outcomes = list(pool.map(call, ["execute_strategy"] * size, keyed, [token] * size))
        figures[f"burst{size}_last_answer_ms"] = (time.perf_counter() - started) * 1000
        filled = sum(1 for o in outcomes if o.result and o.result["status"] == "filled")
        aborted = sum(1 for o in outcomes if o.code == "ABORTED")
        figures[f"burst{size}_filled"] = filled
        figures[f"burst{size}_aborted"] = aborted
        figures[f"burst{size}_other"] = size - filled - aborted
    return figures


def bench_trade_operations(db) -> dict[str, float]:
    """Firestore reads and writes of one keyed paper buy and of one sell, each with its
    mirror, counted on the client (tools/firestore_ops.py) as the handlers run in this process
    against the Firestore emulator: the callable's handler, then the mirror's transaction. The
    user has traded before (the account exists), as most orders find it."""
    from firebase_functions.https_fn import AuthData, CallableRequest

    from smart_routing_firebase.handlers.execute_strategy import handle_execute_strategy
    from smart_routing_firebase.handlers.mirror_ledger_trade import mirror_trade
    from smart_routing_firebase.stores.ledger import FirestoreLedgerStore
    from tools.firestore_ops import counting

    tenant, uid = f"ops-{uuid.uuid4().hex[:8]}", f"ops-user-{uuid.uuid4().hex[:8]}"
    auth = AuthData(uid=uid, token={"tenant_id": tenant})
    ledger = FirestoreLedgerStore(db)

    def order(side: str, key: str) -> dict:
        data = {"strategy_id": "manual", "symbol": "AAPL", "side": side, "qty": 1,
                "idempotency_key": key}  # fmt: skip
        return handle_execute_strategy(CallableRequest(data=data, raw_request=None, auth=auth))

    def mirrored(answer: dict) -> None:
        trade = ledger.get(tenant, answer["trade_id"])
        assert trade is not None and mirror_trade(db, trade) is not None

    mirrored(order("buy", "first"))  # opens the account and the lots
    figures: dict[str, float] = {}
    for side in ("buy", "sell"):
        with counting(db) as placed:
            answer = order(side, f"counted-{side}")
        assert answer["status"] == "filled", answer
        with counting(db) as mirror:
            mirrored(answer)
        figures |= {
            f"trade_{side}_order_reads": placed.reads, f"trade_{side}_order_writes": placed.writes,
            f"trade_{side}_order_commits": placed.commits,
            f"trade_{side}_order_deletes": placed.deletes,
            f"trade_{side}_mirror_reads": mirror.reads,
            f"trade_{side}_mirror_writes": mirror.writes,
            f"trade_{side}_mirror_deletes": mirror.deletes,
        }  # fmt: skip
    return figures


def trade(uid: str, n: int, side: str | None = None) -> LedgerTrade:
    at = START + timedelta(seconds=n)
    side = side or ("buy" if n % 2 else "sell")
    qty = Decimal(2) if side == "buy" else Decimal(1)
    price = Decimal(100 + n % 7)
    return LedgerTrade(
        trade_id=f"bench-{n:06d}", tenant_id="bench", uid=uid, symbol="AAPL",
        asset_class="EQUITY", side=side, qty=qty, price=price, notional=qty * price,
        fees=Decimal(0), currency="USD", estimated_slippage=None, strategy_id="manual",
        timestamp=at, trading_date=trading_date("EQUITY", at), broker="paper",
        broker_order_id=f"p-{n}", client_order_id=f"bench-{n:06d}",
    )  # fmt: skip


def state_after(history: int) -> LotState:
    state = LotState()
    for n in range(1, history + 1):
        state = apply_trade(state, trade("bench-state", n)).state
    return state


def seed(db, uid: str, state: LotState, last: LedgerTrade) -> None:
    """The lots head and the open lot documents of `state`, in batches."""
    from smart_routing_firebase.handlers.mirror_ledger_trade import head_document, lot_document
    from smart_routing_firebase.stores import paths

    db.document(paths.tax_lots(uid, "AAPL")).set(head_document(last, state))
    for start in range(0, len(state.lots), SEED_BATCH):
        batch = db.batch()
        for lot in state.lots[start : start + SEED_BATCH]:
            batch.set(
                db.document(paths.open_lot(uid, "AAPL", lot.trade_id)), lot_document(last, lot)
            )
        batch.commit()


def seeded(db, state: LotState, history: int) -> str:
    uid = f"bench-{history}-{uuid.uuid4().hex[:8]}"
    seed(db, uid, state, trade(uid, history))
    return uid


def timed_mirror(db, uid: str, history: int, side: str | None) -> float:
    from smart_routing_firebase.handlers.mirror_ledger_trade import mirror_trade

    started = time.perf_counter()
    assert mirror_trade(db, trade(uid, history + 1, side)) is not None
    return (time.perf_counter() - started) * 1000


def drop_lots(db, uid: str) -> None:
    from smart_routing_firebase.stores import paths

    lots = list(db.collection(paths.open_lots(uid, "AAPL")).list_documents())
    for start in range(0, len(lots), SEED_BATCH):
        batch = db.batch()
        for ref in lots[start : start + SEED_BATCH]:
            batch.delete(ref)
        batch.commit()


def bench_mirror(db) -> dict[str, float]:
    """Each run seeds its three users before timing any: the emulator's queries scan every
    document it holds, so a sell's time there grows with the whole database, which must be the
    same for the 10th trade as for the 10,001st. The lots are dropped after each run."""
    small, large = state_after(9), state_after(10_000)
    samples: dict[str, list[float]] = {}
    for _ in range(MIRROR_RUNS):
        cases = [
            ("mirror_10th_trade_ms", 9, None, seeded(db, small, 9)),
            ("mirror_10001st_trade_ms", 10_000, None, seeded(db, large, 10_000)),
            ("mirror_10001st_sell_ms", 10_000, "sell", seeded(db, large, 10_000)),
        ]
        for name, history, side, uid in cases:
            samples.setdefault(name, []).append(timed_mirror(db, uid, history, side))
        for *_, uid in cases:
            drop_lots(db, uid)
    figures = {name: statistics.median(values) for name, values in samples.items()}
    tenth = figures["mirror_10th_trade_ms"]
    figures["mirror_cost_ratio"] = figures["mirror_10001st_trade_ms"] / tenth
    figures["mirror_sell_cost_ratio"] = figures["mirror_10001st_sell_ms"] / tenth
    return figures


RECONCILED_FILLS = 2_000


def bench_reconciler(db) -> dict[str, float]:
    from smart_routing.adapters.builtin_instruments import BuiltinInstruments
    from smart_routing.gate.fees import FeeSchedule
    from smart_routing_firebase.reconciliation.venue_fills import VenueReconciler
    from tools.fakes.alpaca import FakeAlpaca, fill_activity
    from venues.alpaca.fills import AlpacaFills
    from venues.settings import AlpacaSettings

    fake = FakeAlpaca().start()
    tenant = f"bench-rec-{uuid.uuid4().hex[:6]}"
    try:
        _seed_orders(db, fake, tenant, fill_activity)
        settings = AlpacaSettings(api_key="AKBENCH000000001", secret_key="bench-secret-0001",
                                  trading_url=fake.url, data_url=fake.url)  # fmt: skip
        reconciler = VenueReconciler(db, AlpacaFills(settings), BuiltinInstruments(), FeeSchedule())
        db.document("reconciliation/alpaca").delete()  # from the first fill the fake keeps
        started = time.perf_counter()
        tally = reconciler.run()
        elapsed = time.perf_counter() - started
        assert tally["recorded"] == RECONCILED_FILLS, tally
        before = _ledger_count(db, tenant)
        db.document("reconciliation/alpaca").delete()  # read every fill again
        reconciler.run()
        added = _ledger_count(db, tenant) - before
    finally:
        fake.server.stop()
    return {"reconciler_fills_per_s": RECONCILED_FILLS / elapsed, "reconciler_rerun_added": added}


def _seed_orders(db, fake, tenant: str, fill_activity) -> None:
    """One accepted order per fill, recorded as the order book records a real venue's order
    (with its venue order index entry), and its FILL activity at the fake."""
    from smart_routing.domain.orders import AccountOwner, Order
    from smart_routing_firebase.stores.one_commit import one_commit
    from smart_routing_firebase.stores.orders import FirestoreOrderBook

    book = FirestoreOrderBook(db)
    for first in range(0, RECONCILED_FILLS, 200):
        with one_commit(db) as commit:
            for n in range(first, min(first + 200, RECONCILED_FILLS)):
                order = Order(
                    broker="alpaca", broker_order_id=str(uuid.uuid4()),
                    client_order_id=f"bench-{n:05d}", symbol="AAPL", asset_class="EQUITY",
                    side="buy", qty=1, order_type="market", status="accepted",
                    submitted_at=START, strategy_id="manual",
                )  # fmt: skip
                book.record(AccountOwner(tenant_id=tenant, uid=f"bench-user-{n % 50}"), order)
                activity = fill_activity(fake.next_activity_id(), order_id=order.broker_order_id)
                fake.add_activity(activity)
        commit.commit()


TCA_TRADES = 2_000
TCA_DAY = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)


def bench_tca_rollup(db) -> dict[str, float]:
    from smart_routing.execution.decision_record import DecisionRecord
    from smart_routing_firebase.handlers.roll_up_tca import roll_up_dates
    from smart_routing_firebase.stores.documents import to_document

    tenant = f"bench-tca-{uuid.uuid4().hex[:6]}"
    day = trading_date("EQUITY", TCA_DAY)
    writes = []
    for n in range(TCA_TRADES):
        at = TCA_DAY + timedelta(seconds=10 * n)
        symbol, strategy = ("AAPL", "MSFT", "SPY", "QQQ")[n % 4], ("manual", "momentum")[n % 2]
        held = DecisionRecord(
            decision_id=f"h-{n:05d}", client_order_id=f"h-{n:05d}", tenant_id=tenant,
            uid=f"u{n % 50}", source="scheduled", symbol=symbol, asset_class="EQUITY",
            venue="paper", strategy_id=strategy, side="buy", qty=Decimal(10), action="downgraded",
            status="downgraded", reason="wide", currency="USD", decided_at=at, trading_date=day,
            estimated_spread_cost=Decimal("0.50"),
        )  # fmt: skip
        sent = held.model_copy(update={
            "decision_id": f"o-{n:05d}", "client_order_id": f"o-{n:05d}", "action": "execute",
            "status": "filled", "decided_at": at + timedelta(seconds=5),
        })  # fmt: skip
        filled = trade(f"u{n % 50}", n, "buy").model_copy(update={
            "trade_id": f"o-{n:05d}", "client_order_id": f"o-{n:05d}", "tenant_id": tenant,
            "symbol": symbol, "strategy_id": strategy, "timestamp": at,
            "trading_date": day, "arrival_mid": Decimal(99), "estimated_slippage": Decimal("1e-4"),
            "realized_slippage_pct": Decimal("2e-4"),
        })  # fmt: skip
        path = f"tenants/{tenant}"
        writes += [(f"{path}/decisions/{sent.decision_id}", to_document(sent, ("decided_at",))),
                   (f"{path}/orders/{sent.client_order_id}", {"filled_qty": 2.0})]  # fmt: skip
        if n % 2:
            writes.append(
                (f"{path}/decisions/{held.decision_id}", to_document(held, ("decided_at",)))
            )
        writes.append((f"{path}/ledger_trades/{filled.trade_id}", to_document(filled)))
    for start in range(0, len(writes), SEED_BATCH):
        batch = db.batch()
        for path, document in writes[start : start + SEED_BATCH]:
            batch.set(db.document(path), document)
        batch.commit()
    started = time.perf_counter()
    first = roll_up_dates(db, [day])
    elapsed = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    again = roll_up_dates(db, [day])
    rerun = (time.perf_counter() - started) * 1000
    assert first["written"] >= 1 and again["written"] == 0, (first, again)
    stored = db.document(f"tenants/{tenant}/tca_daily/{day.isoformat()}").get().to_dict()
    assert stored["total"]["trades"] == TCA_TRADES, stored["total"]
    return {"tca_rollup_ms": elapsed, "tca_rollup_rerun_ms": rerun}


def _ledger_count(db, tenant: str) -> int:
    query = db.collection(f"tenants/{tenant}/ledger_trades").count()
    return int(query.get()[0][0].value)


ONE_INSTANCE_CLIENTS = 80
ONE_INSTANCE_BUYS_EACH = 10


def bench_one_instance(spread: bool = False) -> dict[str, float]:
    """80 clients of one tenant, or (spread) each of a tenant of its own."""
    from concurrent.futures import ThreadPoolExecutor

    from tools.emulator_logs import log_records
    from tools.one_instance import running_instance

    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=16) as pool:
        users = list(pool.map(
            lambda n: new_user(f"{tenant}-{n}" if spread else tenant), range(ONE_INSTANCE_CLIENTS)
        ))  # fmt: skip
    log_path = ROOT / ".cache" / "one-instance-bench.log"
    with running_instance("execute_strategy", log_path) as one:

        def buy(user, key: str) -> float:
            data = {"strategy_id": "manual", "symbol": "AAPL", "side": "buy", "qty": 1,
                    "idempotency_key": key}  # fmt: skip
            started = time.perf_counter()
            answer = requests.post(
                one.url, json={"data": data}, timeout=120,
                headers={"Authorization": f"Bearer {user.id_token}"},
            ).json()  # fmt: skip
            assert answer["result"]["status"] == "filled", answer
            return (time.perf_counter() - started) * 1000

        def client(user) -> list[float]:
            return [buy(user, f"b-{n}") for n in range(ONE_INSTANCE_BUYS_EACH)]

        with ThreadPoolExecutor(max_workers=ONE_INSTANCE_CLIENTS) as pool:
            list(pool.map(lambda user: buy(user, "warm-up"), users))
            retries_before = len(log_records(log_path, "exec.commit_retried"))
            cpu_before, started = one.cpu_seconds(), time.perf_counter()
            samples = [ms for part in pool.map(client, users) for ms in part]
            elapsed, cpu = time.perf_counter() - started, one.cpu_seconds() - cpu_before
            retries = len(log_records(log_path, "exec.commit_retried")) - retries_before
    prefix = "one_instance_spread" if spread else "one_instance"
    figures = {
        f"{prefix}_buys_per_s": len(samples) / elapsed,
        f"{prefix}_cpu_ms_per_buy": cpu * 1000 / len(samples),
        f"{prefix}_buy_p50_ms": statistics.median(samples),
    }
    if not spread:
        figures["one_instance_commit_retries_per_buy"] = retries / len(samples)
    return figures


SWEEP_USERS = 40
SWEEP_TRADES_EACH = 10


def bench_sweep(db) -> dict[str, float]:
    """Ledger trades written as the functions write them (each with its marker), with no
    trigger running: the sweep alone mirrors them."""
    from smart_routing_firebase.handlers.sweep_unmirrored_trades import sweep
    from smart_routing_firebase.stores.ledger import FirestoreLedgerStore

    ledger, tenant = FirestoreLedgerStore(db), f"sweep-{uuid.uuid4().hex[:8]}"
    for u in range(SWEEP_USERS):
        for n in range(1, SWEEP_TRADES_EACH + 1):
            trade_id = f"sweep-{u}-{n:03d}"
            ledger.append(trade(f"sweep-user-{u}", n).model_copy(update={
                "trade_id": trade_id, "client_order_id": trade_id, "tenant_id": tenant,
            }))  # fmt: skip
    started = time.perf_counter()
    tally = sweep(db, datetime.now(UTC) + timedelta(minutes=5))
    elapsed = time.perf_counter() - started
    assert tally["mirrored"] == SWEEP_USERS * SWEEP_TRADES_EACH, tally
    return {"sweep_trades_per_s": tally["mirrored"] / elapsed}


def main(only: set[str]) -> None:
    """Every benchmark, or those named on the command line (callable, burst, one_instance,
    mirror, reconciler, tca_rollup, sweep, operations)."""

    def wanted(name: str) -> bool:
        return not only or name in only

    figures: dict[str, float] = {}
    with (
        client_environment(),
        running_emulators(ROOT / "emulator-data", ROOT / ".cache" / "emulators-bench.log"),
    ):
        from smart_routing_firebase.platform.app import firestore_client

        db = firestore_client()  # also initializes the Admin SDK that signs users up
        if wanted("callable"):
            figures |= bench_callable(db)
        if wanted("burst"):
            figures |= bench_burst(db)
        if wanted("one_instance"):
            figures |= bench_one_instance()
            figures |= bench_one_instance(spread=True)
        if wanted("mirror"):
            figures |= bench_mirror(db)
    # The Firestore emulator alone: on two cores the functions emulator running the mirror of
    # every trade written would take the CPU the reconciler is measured on.
    with (
        client_environment(),
        running_emulators(None, ROOT / ".cache" / "emulators-bench.log", only="firestore"),
    ):
        if wanted("sweep"):  # first: the reconciler's trades would leave markers too
            figures |= bench_sweep(firestore_client())
        if wanted("operations"):  # no functions emulator: no trigger mirrors first
            figures |= bench_trade_operations(firestore_client())
        if wanted("reconciler"):
            figures |= bench_reconciler(firestore_client())
        if wanted("tca_rollup"):
            figures |= bench_tca_rollup(firestore_client())
    for name, value in figures.items():
        print(f"BENCH {name}={value:.2f}")


if __name__ == "__main__":
    main(set(sys.argv[1:]))
