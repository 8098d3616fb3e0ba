"""The replay as an operator runs it: the sample, the JSON, the fills file and the report."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from smart_routing.domain.assets import AssetClass
from smart_routing.replay.accounting import Policy
from smart_routing.replay.sample import generate, spread_shape
from tests.test_cli import FUNCTIONS

FIGURES = {
    "orders", "filled", "fill_rate", "filled_notional_usd", "spread_cost_bps",
    "implementation_shortfall_bps", "mean_delay_s", "no_quote", "rejected", "unconverted",
}  # fmt: skip


def python_m(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smart_routing", *args],
        cwd=FUNCTIONS, capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin"},
    )  # fmt: skip


def test_the_sample_and_its_replay_with_fills_and_report(tmp_path: Path):
    made = python_m("replay-sample", "--out", str(tmp_path), "--quotes", "5000", "--orders", "80")
    assert made.returncode == 0, made.stderr
    fills, report = tmp_path / "fills.csv", tmp_path / "report.html"
    done = python_m(
        "replay", "--quotes", str(tmp_path / "QUOTES.csv"),
        "--orders", str(tmp_path / "ORDERS.csv"), "--fills", str(fills), "--report", str(report),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert "skipped 0 quote rows; skipped 0 order rows" in done.stderr
    assert set(summary["policies"]) == {p.value for p in Policy}
    for figures in summary["policies"].values():
        assert set(figures) == FIGURES | {"by_asset_class"}
        assert set(figures["by_asset_class"]) == {c.value for c in AssetClass}
        for per_class in figures["by_asset_class"].values():
            assert set(per_class) == FIGURES
    assert summary["quotes"]["rows"] == 5000 and summary["orders"]["rows"] == 80
    with fills.open() as handle:
        rows = list(csv.DictReader(handle))
    filled = sum(f["filled"] for f in summary["policies"].values())
    assert len(rows) == filled
    assert {r["policy"] for r in rows} == {"market", "wait", "limit"}
    assert all(float(r["delay_s"]) >= 0 and float(r["price"]) > 0 for r in rows)
    page = report.read_text()
    assert page.count("<svg") == 3
    assert "Cost by policy" in page and "hour of day" in page and "by asset class" in page


def test_the_policy_option_replays_one_policy(tmp_path: Path):
    generate(tmp_path, quotes=2000, orders=30)
    done = python_m(
        "replay", "--quotes", str(tmp_path / "QUOTES.csv"),
        "--orders", str(tmp_path / "ORDERS.csv"), "--policy", "wait", "--horizon-s", "120",
    )  # fmt: skip
    summary = json.loads(done.stdout)
    assert list(summary["policies"]) == ["wait"] and summary["saved_vs_market_bps"] == {}
    assert summary["settings"]["horizon_s"] == 120.0


def test_the_sample_is_the_same_for_the_same_seed(tmp_path: Path):
    generate(tmp_path / "a", quotes=3000, orders=50, seed=5)
    generate(tmp_path / "b", quotes=3000, orders=50, seed=5)
    generate(tmp_path / "c", quotes=3000, orders=50, seed=6)
    for name in ("QUOTES.csv", "ORDERS.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()


def minute(day: int, hour: int, minutes: int) -> int:
    """ns at the given New York time on April `day`, 2026 (UTC-4)."""
    return np.datetime64(f"2026-04-{day:02d}T{hour + 4:02d}:{minutes:02d}", "ns").astype(np.int64)


def test_the_sample_spreads_have_each_class_s_intraday_shape():
    def shape(asset_class: AssetClass, *ts: int) -> list[float]:
        return spread_shape(asset_class, np.array(ts, dtype=np.int64)).tolist()

    open_, noon, close = shape(AssetClass.EQUITY, minute(20, 9, 30), minute(20, 12, 0),
                               minute(20, 15, 59))  # fmt: skip
    assert open_ > 5 * noon and close > 1.5 * noon and noon < 1.01
    rollover, quiet = shape(AssetClass.FOREX, minute(20, 17, 0), minute(20, 12, 0))
    assert rollover >= 20 * quiet
    saturday, monday = shape(AssetClass.CRYPTO, minute(18, 12, 0), minute(20, 12, 0))
    assert saturday > 2 * monday
