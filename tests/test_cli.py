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
    assert decision["reason"] == "Spread 0.20% exceeds threshold 0.10%"


def test_route_takes_side_qty_class_and_threshold():
    done = run(
        "route", "--symbol", "EURUSD", "--bid", "1.1", "--ask", "1.1002", "--side", "sell",
        "--qty", "10000", "--asset-class", "forex", "--max-spread-pct", "0.0005",
    )  # fmt: skip
    decision = json.loads(done.stdout)
    assert decision["symbol"] == "EUR/USD" and decision["asset_class"] == "FOREX"
    assert decision["side"] == "sell" and decision["qty"] == 10_000
    assert decision["threshold_pct"] == 0.0005 and decision["should_execute"] is True
    assert decision["estimated_cost"] == pytest.approx(10_000 * 1.1001 * decision["spread_pct"] / 2)


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
        (["--symbol", "AAPL", "--bid", "abc", "--ask", "2"], {}, "'abc' is not a number"),
        (["--symbol", "AAPL", "--bid", "-1", "--ask", "2"], {}, "positive"),
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
    assert rows["BTC/USD"][3:8] == ["WAIT", "0.200%", "0.10%", "WAIT", "downgraded"]
    assert rows["EUR/USD"][7] == "filled"


def test_the_demo_refuses_a_bad_setting():
    done = run("demo", env={"EXEC_MAX_SPREAD_PCT": "-1"})
    assert done.returncode == 2
    assert "EXEC_MAX_SPREAD_PCT" in done.stderr
