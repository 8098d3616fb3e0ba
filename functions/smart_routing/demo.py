"""The in-process scenario: every asset class on the simulated market, through the whole path."""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from dataclasses import dataclass

from smart_routing.config.engine_config import EngineConfig
from smart_routing.execution.pipeline import StrategyRunRequest, StrategyRunResult
from smart_routing.runtime import LocalRuntime, build_local_runtime


@dataclass(frozen=True)
class Scenario:
    note: str
    request: StrategyRunRequest
    quote: tuple[float, float] | None = None  # (bid, ask) set on the simulated market first
    closes: list[float] | None = None


def _manual(symbol: str, side: str, qty: float) -> StrategyRunRequest:
    return StrategyRunRequest(strategy_id="manual", symbol=symbol, side=side, qty=qty)


SCENARIOS = [
    Scenario("equity, tight spread", _manual("AAPL", "buy", 10)),
    Scenario("forex, tight spread", _manual("EUR/USD", "buy", 10_000)),
    Scenario("crypto, the seed's example", _manual("BTC/USD", "buy", 0.5), (49_950, 50_050)),
    Scenario("crypto, tight spread", _manual("ETH/USD", "buy", 2)),
    Scenario("option, 2% spread", _manual("AAPL271217C00190000", "buy", 1)),
    Scenario("option, 8% spread", _manual("SPY271217P00500000", "buy", 1), (4.60, 5.00)),
    Scenario(
        "momentum, uptrend",
        StrategyRunRequest(strategy_id="crypto_momentum", symbol="SOL/USD", qty=10),
        closes=[100 + i * 0.1 for i in range(19)] + [150.0],
    ),
    Scenario("equity sell of what was bought", _manual("AAPL", "sell", 4)),
]

COLUMNS = ("symbol", "class", "strategy", "signal", "spread", "threshold", "decision", "status")


def run_demo(config: EngineConfig) -> list[StrategyRunResult]:
    runtime = build_local_runtime(config)
    results, log_lines = [], io.StringIO()
    with contextlib.redirect_stdout(log_lines):
        for scenario in SCENARIOS:
            if scenario.quote is not None:
                runtime.market.set_quote(scenario.request.symbol, *scenario.quote)
            if scenario.closes is not None:
                runtime.market.set_closes(scenario.request.symbol, scenario.closes)
            results.append(runtime.runner.run(scenario.request))
    rows = [_row(s.request, r) for s, r in zip(SCENARIOS, results, strict=True)]
    _print_table(rows)
    _print_summary(runtime, log_lines.getvalue())
    return results


def _row(request: StrategyRunRequest, result: StrategyRunResult) -> dict[str, str]:
    routing = result.routing
    spread = "n/a" if routing is None or routing.spread_pct is None else f"{routing.spread_pct:.3%}"
    threshold = "n/a" if routing is None else f"{routing.threshold_pct:.2%}"
    decision = "n/a" if routing is None else routing.action.value.upper()
    trade = result.execution.trade if result.execution else None
    fill = f"{trade.qty:f} @ {trade.price:,f} {trade.currency}" if trade else "-"
    return {
        "symbol": result.signal.symbol,
        "class": result.signal.asset_class.value,
        "strategy": request.strategy_id,
        "signal": result.signal.signal_type.value,
        "spread": spread,
        "threshold": threshold,
        "decision": decision,
        "status": result.status.value,
        "fill": fill,
    }


def _print_table(rows: list[dict[str, str]]) -> None:
    columns = (*COLUMNS, "fill")
    widths = {c: max(len(c), *(len(row[c]) for row in rows)) for c in columns}
    print("  ".join(c.upper().ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(row[c].ljust(widths[c]) for c in columns))


def _print_summary(runtime: LocalRuntime, log_text: str) -> None:
    events = Counter(json.loads(line)["event"] for line in log_text.splitlines() if line)
    trades = runtime.ledger.trades(runtime.config.tenant_id)
    history = runtime.portfolio.history(runtime.config.uid)
    print()
    print(f"ledger trades: {len(trades)}   portfolio history records: {len(history)}")
    for record in history:
        if record.realized_gain is not None:
            print(
                f"  {record.symbol} sell {record.qty:f}: cost basis "
                f"{record.cost_basis.formatted()}, realized gain "
                f"{record.realized_gain.formatted()} (FIFO)"
            )
    print("log events: " + ", ".join(f"{name} x{count}" for name, count in sorted(events.items())))
