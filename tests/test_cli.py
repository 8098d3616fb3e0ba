"""The what-if command and the demo, run as an operator runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"


def run(*args, env=None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("EXEC_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "smart_routing", *args],
        cwd=FUNCTIONS,
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def test_route_answers_the_seed_example_as_one_json_object():
    done = run("route", "--symbol", "BTC/USD", "--bid", "49950", "--ask", "50050")
    assert done.returncode == 0, done.stderr
    decision = json.loads(done.stdout)
    assert decision["asset_class"] == "CRYPTO"
    assert decision["spread_pct"] == pytest.approx(0.002)
    assert decision["threshold_pct"] == 0.001
    assert decision["should_execute"] is False and decision["downgraded"] is True
    assert decision["reason"] == "Spread 0.20% exceeds threshold 0.10% (default)"
    assert decision["action"] == "wait" and decision["cost_check"] == "exceeded"


def test_route_shows_the_limit_fallback_when_it_is_configured():
    env = {"EXEC_WIDE_SPREAD_ACTION": "limit", "EXEC_LIMIT_TTL_S": "30"}
    done = run("route", "--symbol", "BTC/USD", "--bid", "49950", "--ask", "50050", "--qty", "0.1",
               env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    decision = json.loads(done.stdout)
    assert (decision["action"], decision["cost_check"], decision["fallback"]) == (
        "execute", "exceeded", "limit")  # fmt: skip
    assert decision["limit_price"] == 50_000 and decision["price"] == 50_000
    assert decision["reason"] == (
        "Spread 0.20% exceeds threshold 0.10% (default): a limit order at the mid, 50000, "
        "working for 30s instead of waiting"
    )


def test_route_takes_side_qty_class_and_threshold():
    done = run(
        "route", "--symbol", "EURUSD", "--bid", "1.1", "--ask", "1.1002", "--side", "sell",
        "--qty", "10000", "--asset-class", "forex", "--max-spread-pct", "0.0005",
    )  # fmt: skip
    decision = json.loads(done.stdout)
    assert decision["symbol"] == "EUR/USD" and decision["asset_class"] == "FOREX"
    assert decision["side"] == "sell" and decision["qty"] == 10_000
    assert decision["threshold_pct"] == 0.0005 and decision["should_execute"] is True
    assert decision["threshold_source"] == "strategy max_slippage_pct"
    # Half the 0.0002 spread on 10,000 units, in the quote currency's cents.
    assert decision["estimated_spread_cost"] == 1.0 and decision["currency"] == "USD"
    assert decision["notional"] == 11_000.0  # a sell is sized at the bid


def test_route_usd_jpy_is_in_yen_with_a_usd_buying_power_check():
    done = run(
        "route", "--symbol", "USD/JPY", "--qty", "1000", "--bid", "149.98", "--ask", "150.02"
    )
    decision = json.loads(done.stdout)
    assert decision["should_execute"] is True and decision["currency"] == "JPY"
    assert decision["notional"] == 150_020 and decision["account_currency"] == "USD"
    assert decision["notional_in_account_currency"] == 1000.13
    assert decision["conversion"]["symbol"] == "USD/JPY"
    poor = run("route", "--symbol", "USD/JPY", "--qty", "1000000", "--bid", "149.98",
               "--ask", "150.02", "--cash", "1000")  # fmt: skip
    assert "insufficient buying power" in json.loads(poor.stdout)["reason"]


def test_route_an_option_qty_off_the_grid_is_an_error_naming_the_increment():
    done = run("route", "--symbol", "AAPL271217C00190000", "--qty", "0.37",
               "--bid", "5", "--ask", "5.1")  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == "error: qty: 0.37 is not a multiple of the increment 1 contracts\n"


def test_route_an_expired_option_is_rejected():
    done = run("route", "--symbol", "AAPL250117C00190000", "--bid", "5", "--ask", "5.1")
    decision = json.loads(done.stdout)
    assert decision["action"] == "reject" and decision["reason"].endswith("expired on 2025-01-17")


def test_route_smart_routing_off_bypasses_the_cost_check():
    done = run("route", "--symbol", "AAPL", "--bid", "95", "--ask", "100",
               env={"EXEC_SMART_ROUTING_ENABLED": "false"})  # fmt: skip
    decision = json.loads(done.stdout)
    assert decision["should_execute"] is True and decision["cost_check"] == "bypassed"


def test_route_btc_notional_is_rounded_to_the_cent():
    done = run("route", "--symbol", "BTC/USD", "--qty", "0.1", "--bid", "110002.99",
               "--ask", "110003.01")  # fmt: skip
    decision = json.loads(done.stdout)
    assert decision["should_execute"] is True
    assert decision["notional"] == 11000.30 and decision["currency"] == "USD"


def test_route_honours_the_environment_threshold():
    done = run(
        "route", "--symbol", "BTC/USD", "--bid", "49950", "--ask", "50050",
        env={"EXEC_MAX_SPREAD_PCT": "0.0025"},
    )  # fmt: skip
    assert json.loads(done.stdout)["should_execute"] is True


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--symbol", "NOT A SYMBOL", "--bid", "1", "--ask", "2"], {}, "'NOT A SYMBOL'"),
        (["--symbol", "AAPL", "--bid", "abc", "--ask", "2"], {}, "'abc' is not a finite number"),
        (["--symbol", "AAPL", "--bid", "-1", "--ask", "2"], {}, "greater than 0"),
        (["--symbol", "AAPL", "--bid", "3", "--ask", "2"], {}, "bid 3 is above ask 2"),
        (["--symbol", "AAPL", "--bid", "1"], {}, "--ask"),
        (["--symbol", "AAPL", "--bid", "1", "--ask", "2", "--asset-class", "bond"], {}, "BOND"),
        (["--symbol", "AAPL", "--bid", "1", "--ask", "2"], {"EXEC_MAX_SPREAD_PCT": "abc"}, "abc"),
    ],
)
def test_bad_input_gets_a_one_line_error_and_exit_2(args, env, message):
    done = run("route", *args, env=env)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("error: ")
    assert message in done.stderr


def test_the_demo_prints_its_table_for_all_four_asset_classes():
    done = run("demo")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:8] == [
        "SYMBOL", "CLASS", "STRATEGY", "SIGNAL", "SPREAD", "THRESHOLD", "DECISION", "STATUS"
    ]  # fmt: skip
    rows = {line.split()[0]: line.split() for line in lines[1:9]}
    assert {row[1] for row in rows.values()} == {"EQUITY", "FOREX", "CRYPTO", "OPTIONS"}
    # The strategy wanted to buy; the gate made it wait: both are shown.
    assert rows["BTC/USD"][3:8] == ["BUY", "0.200%", "0.10%", "WAIT", "downgraded"]
    assert rows["EUR/USD"][7] == "filled"


def test_the_demo_refuses_a_bad_setting():
    done = run("demo", env={"EXEC_MAX_SPREAD_PCT": "-1"})
    assert done.returncode == 2
    assert "EXEC_MAX_SPREAD_PCT" in done.stderr


def test_route_an_out_of_range_number_is_a_one_line_error():
    done = run("route", "--symbol", "AAPL", "--bid", "1", "--ask", "2", "--qty", "1e999999")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "is not a finite number" in done.stderr or "out of range" in done.stderr
