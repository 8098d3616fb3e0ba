"""The replay's accounting against figures computed by hand on tiny CSVs, policy by policy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from smart_routing.config.engine_config import load_config
from smart_routing.domain.orders import OrderSide
from smart_routing.replay.accounting import Policy
from smart_routing.replay.impact import marketable_price
from smart_routing.replay.run import Settings, replay
from smart_routing.replay.scan import first_at_or_below

T0 = datetime(2026, 4, 20, 14, 0, tzinfo=UTC)  # a Monday, 10:00 in New York
QUOTES_HEADER = "timestamp,symbol,bid,ask"
ORDERS_HEADER = "timestamp,symbol,side,qty"
BPS = Decimal(10_000)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def bps(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.0001")))


def run(
    tmp_path: Path,
    quotes: list[str],
    orders: list[str],
    policies: tuple[Policy, ...] = tuple(Policy),
    quotes_header: str = QUOTES_HEADER,
    horizon_s: float = 300,
    ttl_s: float = 60,
) -> dict:
    result = replay(
        write(tmp_path / "q.csv", quotes_header, quotes),
        write(tmp_path / "o.csv", ORDERS_HEADER, orders),
        Settings(policies=policies, horizon_s=horizon_s, ttl_s=ttl_s),
        load_config({}, smart_routing_default=True),
    )
    return result.summary()


def test_the_arrival_is_the_latest_quote_at_or_before_the_order_whatever_the_row_order(
    tmp_path: Path,
):
    quotes = [
        f"{at(5)},AAPL,100.00,100.02",  # after the order
        f"{at(-60)},AAPL,99.00,99.02",
        f"{at(0)},AAPL,100.10,100.12",  # at the order's time...
        f"{at(0)},AAPL,100.20,100.22",  # ...and so is this one, written later: the arrival
    ]
    # The same instant as T0, written in New York time.
    orders = ["2026-04-20T10:00:00-04:00,AAPL,buy,10"]
    market = run(tmp_path, quotes, orders, (Policy.MARKET,))["policies"]["market"]
    cost = (Decimal("100.22") - Decimal("100.21")) * 10
    assert market["filled"] == 1 and market["fill_rate"] == 1.0
    assert market["filled_notional_usd"] == 1002.2
    assert market["spread_cost_bps"] == bps(cost / Decimal("1002.2") * BPS)
    assert market["implementation_shortfall_bps"] == bps(cost / Decimal("1002.1") * BPS)
    assert market["mean_delay_s"] == 0.0


EUR_ORDER = f"{at(0)},EUR/USD,buy,100000"
EUR_QUOTES = [
    f"{at(20)},EUR/USD,1.08100,1.08105",  # narrow: the first the gate passes
    f"{at(0)},EUR/USD,1.08000,1.08200",  # the arrival: 0.185% wide, the gate holds
    f"{at(10)},EUR/USD,1.08010,1.08210",  # still wide
    f"{at(30)},EUR/USD,1.08000,1.08001",  # narrow too, but later
]
GBP_ORDER = f"{at(1000)},GBP/USD,buy,10000"
GBP_QUOTES = [
    f"{at(1000)},GBP/USD,1.27000,1.27200",  # held
    f"{at(1100)},GBP/USD,1.27100,1.27300",  # wide: mid 1.272, the last before the horizon
    f"{at(1301)},GBP/USD,1.27200,1.27201",  # narrow, one second past the horizon
]


def test_wait_fills_at_the_touch_of_the_first_quote_the_gate_passes(tmp_path: Path):
    wait = run(tmp_path, EUR_QUOTES, [EUR_ORDER], (Policy.WAIT,))["policies"]["wait"]
    cost = (Decimal("1.08105") - Decimal("1.081")) * 100_000
    notional = Decimal("1.08105") * 100_000
    assert wait["filled"] == 1 and wait["mean_delay_s"] == 20.0
    assert wait["filled_notional_usd"] == float(notional)
    assert wait["spread_cost_bps"] == bps(cost / notional * BPS)
    market = run(tmp_path, EUR_QUOTES, [EUR_ORDER], (Policy.MARKET,))["policies"]["market"]
    assert market["spread_cost_bps"] == bps(
        (Decimal("1.082") - Decimal("1.081")) / Decimal("1.082") * BPS
    )


def test_wait_leaves_an_order_unfilled_at_the_horizon_and_charges_the_move_it_missed(
    tmp_path: Path,
):
    wait = run(tmp_path, GBP_QUOTES, [GBP_ORDER], (Policy.WAIT,))["policies"]["wait"]
    assert wait["orders"] == 1 and wait["filled"] == 0 and wait["fill_rate"] == 0.0
    assert wait["spread_cost_bps"] is None and wait["mean_delay_s"] is None
    missed = (Decimal("1.272") - Decimal("1.271")) * 10_000
    assert wait["implementation_shortfall_bps"] == bps(missed / (Decimal("1.271") * 10_000) * BPS)
    longer = run(tmp_path, GBP_QUOTES, [GBP_ORDER], (Policy.WAIT,), horizon_s=301)
    assert longer["policies"]["wait"]["filled"] == 1
    assert longer["policies"]["wait"]["mean_delay_s"] == 301.0


BTC_ORDER = f"{at(0)},BTC/USD,sell,0.5"
BTC_QUOTES = [
    f"{at(0)},BTC/USD,50000,50100",  # 0.2% wide: held; the sell's limit is the mid, 50050
    f"{at(30)},BTC/USD,50040,50090",  # the bid is below the limit
    f"{at(45)},BTC/USD,50050,50060",  # the bid reaches it: filled at 50050
]
ETH_ORDER = f"{at(0)},ETH/USD,buy,2"
ETH_QUOTES = [
    f"{at(0)},ETH/USD,3000,3010",  # held; the buy's limit is 3005
    f"{at(30)},ETH/USD,3001,3006",
    f"{at(61)},ETH/USD,3000,3004",  # would fill, one second after the ttl
]


def test_limit_fills_at_its_price_when_the_opposite_side_reaches_it_within_the_ttl(
    tmp_path: Path,
):
    limit = run(tmp_path, BTC_QUOTES, [BTC_ORDER], (Policy.LIMIT,))["policies"]["limit"]
    assert limit["filled"] == 1 and limit["mean_delay_s"] == 45.0
    assert limit["filled_notional_usd"] == 25025.0
    assert limit["spread_cost_bps"] == 0.0  # at the arrival mid exactly
    market = run(tmp_path, BTC_QUOTES, [BTC_ORDER], (Policy.MARKET,))["policies"]["market"]
    assert market["spread_cost_bps"] == bps(Decimal(50) / Decimal(50000) * BPS)


def test_limit_expires_after_the_ttl_and_the_order_is_measured_at_the_horizon_mid(
    tmp_path: Path,
):
    summary = run(tmp_path, ETH_QUOTES, [ETH_ORDER], (Policy.LIMIT, Policy.WAIT))
    limit = summary["policies"]["limit"]
    assert limit["filled"] == 0
    # Unfilled: the mid at the horizon (3002) against the arrival mid (3005), for a buy.
    shortfall = (Decimal(3002) - Decimal(3005)) * 2 / (Decimal(3005) * 2) * BPS
    assert limit["implementation_shortfall_bps"] == bps(shortfall)
    assert summary["policies"]["wait"]["filled"] == 0  # every later quote is over 0.1%
    longer = run(tmp_path, ETH_QUOTES, [ETH_ORDER], (Policy.LIMIT,), ttl_s=61)
    assert longer["policies"]["limit"]["filled"] == 1


def test_every_policy_split_by_asset_class_and_the_savings_against_market(tmp_path: Path):
    quotes = EUR_QUOTES + GBP_QUOTES + BTC_QUOTES + ETH_QUOTES
    orders = [EUR_ORDER, GBP_ORDER, BTC_ORDER, ETH_ORDER, f"{at(0)},MSFT,buy,1"]
    summary = run(tmp_path, quotes, orders)
    market, wait, limit = (summary["policies"][p] for p in ("market", "wait", "limit"))
    assert market["orders"] == 5 and market["filled"] == 4 and market["no_quote"] == 1
    assert set(market["by_asset_class"]) == {"CRYPTO", "EQUITY", "FOREX"}
    assert market["by_asset_class"]["EQUITY"]["no_quote"] == 1
    fx, crypto = wait["by_asset_class"]["FOREX"], limit["by_asset_class"]["CRYPTO"]
    assert (fx["orders"], fx["filled"], fx["mean_delay_s"]) == (2, 1, 20.0)
    # Forex under wait: the EUR/USD fill's cost and the GBP/USD order's missed move.
    eur_cost = (Decimal("1.08105") - Decimal("1.081")) * 100_000
    gbp_missed = (Decimal("1.272") - Decimal("1.271")) * 10_000
    arrival = Decimal("1.081") * 100_000 + Decimal("1.271") * 10_000
    assert fx["implementation_shortfall_bps"] == bps((eur_cost + gbp_missed) / arrival * BPS)
    assert (crypto["orders"], crypto["filled"]) == (2, 1)
    assert crypto["spread_cost_bps"] == 0.0
    # Market paid half of each spread; the savings are the differences of the figures.
    saved = summary["saved_vs_market_bps"]
    assert saved["limit"]["spread_cost_bps"] == pytest.approx(
        market["spread_cost_bps"] - limit["spread_cost_bps"]
    )
    assert set(saved) == {"wait", "limit"}


def test_usd_jpy_is_converted_at_its_own_mid_and_eur_gbp_through_gbp_usd(tmp_path: Path):
    quotes = [
        f"{at(0)},USD/JPY,150.000,150.010",
        f"{at(-5)},GBP/USD,1.25000,1.25002",  # converts the EUR/GBP order's pounds
        f"{at(0)},EUR/GBP,0.85000,0.85002",
        f"{at(0)},EUR/CHF,0.95000,0.95002",  # no CHF pair in the file: not converted
    ]
    orders = [
        f"{at(1)},USD/JPY,buy,1000",
        f"{at(1)},EUR/GBP,buy,1000",
        f"{at(1)},EUR/CHF,buy,1000",
    ]
    market = run(tmp_path, quotes, orders, (Policy.MARKET,))["policies"]["market"]
    assert market["filled"] == 3 and market["unconverted"] == 1
    jpy_rate = 1 / Decimal("150.005")
    gbp_rate = Decimal("1.25001")
    cost = Decimal("0.005") * 1000 * jpy_rate + Decimal("0.00001") * 1000 * gbp_rate
    notional = Decimal("150.010") * 1000 * jpy_rate + Decimal("0.85002") * 1000 * gbp_rate
    assert market["filled_notional_usd"] == float(notional.quantize(Decimal("0.01")))
    assert market["spread_cost_bps"] == bps(cost / notional * BPS)


def test_an_order_larger_than_the_touch_pays_square_root_impact_beyond_it(tmp_path: Path):
    quotes = [f"{at(0)},AAPL,9.98,10.00,500,100"]
    orders = [f"{at(0)},AAPL,buy,400"]
    header = "timestamp,symbol,bid,ask,bid_size,ask_size"
    market = run(tmp_path, quotes, orders, (Policy.MARKET,), quotes_header=header)
    # 100 at the 10.00 touch, 300 at 10.00 + 0.01 * sqrt(300 / 100).
    beyond = Decimal("10.00") + Decimal("0.01") * Decimal(3).sqrt()
    price = (100 * Decimal("10.00") + 300 * beyond) / 400
    assert price == marketable_price(
        OrderSide.BUY, Decimal("9.98"), Decimal("10.00"), Decimal(100), Decimal(400)
    )
    notional = price * 400
    figures = market["policies"]["market"]
    assert figures["filled_notional_usd"] == float(notional.quantize(Decimal("0.01")))
    assert figures["spread_cost_bps"] == bps((price - Decimal("9.99")) * 400 / notional * BPS)


def test_a_sell_within_the_touch_size_pays_the_bid():
    assert marketable_price(
        OrderSide.SELL, Decimal("9.98"), Decimal("10.00"), Decimal(500), Decimal(400)
    ) == Decimal("9.98")
    assert marketable_price(
        OrderSide.SELL, Decimal("9.98"), Decimal("10.00"), None, Decimal(10**6)
    ) == Decimal("9.98")


def test_the_first_value_at_or_below_a_limit_in_each_window_matches_a_plain_search():
    rng = np.random.default_rng(1)
    values = rng.integers(0, 50, 500).astype(float)
    lo = rng.integers(0, 500, 300)
    hi = np.minimum(500, lo + rng.integers(0, 120, 300))
    limits = rng.integers(-1, 40, 300).astype(float)
    found = first_at_or_below(values, lo, hi, limits)
    for i in range(300):
        inside = [j for j in range(lo[i], hi[i]) if values[j] <= limits[i]]
        assert found[i] == (inside[0] if inside else -1)
    assert (found >= 0).sum() > 100 and (found < 0).sum() > 10


@pytest.mark.parametrize("small_blocks", [False, True])
def test_of_quotes_at_one_instant_the_first_written_fills_and_the_last_written_is_the_latest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_blocks: bool
):
    if small_blocks:  # one row a block: the ties are settled across blocks
        from smart_routing.replay import csv_input, scan

        monkeypatch.setattr(csv_input, "BLOCK_BYTES", 64)
        monkeypatch.setattr(scan, "SPOOL_ROWS", 1)
    quotes = [
        f"{at(0)},EUR/USD,1.08000,1.08200",  # held
        f"{at(50)},EUR/USD,1.08100,1.08102",  # passes, written first: the fill
        f"{at(50)},EUR/USD,1.08100,1.08101",  # passes too, same instant, written later
        f"{at(0)},GBP/USD,1.27000,1.27200",  # held, and every later quote is as wide
        f"{at(300)},GBP/USD,1.27500,1.27700",  # at the horizon (inside it), written first
        f"{at(300)},GBP/USD,1.28500,1.28700",  # same instant, written last: the horizon mid
    ]
    orders = [EUR_ORDER, f"{at(0)},GBP/USD,buy,10000"]
    wait = run(tmp_path, quotes, orders, (Policy.WAIT,))["policies"]["wait"]
    assert wait["filled"] == 1 and wait["mean_delay_s"] == 50.0
    notional = Decimal("1.08102") * 100_000
    assert wait["filled_notional_usd"] == float(notional)
    paid = (Decimal("1.08102") - Decimal("1.081")) * 100_000
    missed = (Decimal("1.286") - Decimal("1.271")) * 10_000
    arrival = Decimal("1.081") * 100_000 + Decimal("1.271") * 10_000
    assert wait["implementation_shortfall_bps"] == bps((paid + missed) / arrival * BPS)


def test_fills_file_has_one_row_per_simulated_fill(tmp_path: Path, capsys):
    from smart_routing.cli import main

    quotes = write(tmp_path / "q.csv", QUOTES_HEADER, BTC_QUOTES)
    orders = write(tmp_path / "o.csv", ORDERS_HEADER, [f"{at(-100)},ETH/USD,buy,1", BTC_ORDER])
    fills = tmp_path / "fills.csv"
    argv = ["replay", "--quotes", str(quotes), "--orders", str(orders), "--fills", str(fills)]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["policies"]["limit"]["filled"] == 1
    assert fills.read_text().splitlines() == [
        "order_row,order_timestamp,symbol,asset_class,side,policy,fill_timestamp,price,qty,delay_s",
        f"3,{at(0)},BTC/USD,CRYPTO,sell,market,2026-04-20T14:00:00.000000000Z,50000,0.5,"
        "0.000000000",
        # 50040/50090 is 0.0999% wide: within the gate's 0.1%
        f"3,{at(0)},BTC/USD,CRYPTO,sell,wait,2026-04-20T14:00:30.000000000Z,50040,0.5,30.000000000",
        f"3,{at(0)},BTC/USD,CRYPTO,sell,limit,2026-04-20T14:00:45.000000000Z,50050,0.5,"
        "45.000000000",
    ]
