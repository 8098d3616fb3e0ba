"""main.py imports only what every function needs; the mirror never loads the execution path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

from tools.emulators import ROOT, emulator_environment

HEAVY = (
    "alpaca", "pandas", "smart_routing.execution.engine", "smart_routing.execution.pipeline",
    "smart_routing_firebase.handlers.execute_strategy", "smart_routing.strategies",
)  # fmt: skip

SCRIPT = """
import json, sys
import main
after_import = sorted(sys.modules)
from smart_routing_firebase.handlers.mirror_ledger_trade import handle_ledger_trade_created
handle_ledger_trade_created({trade}, {{"tenant_id": "cold", "trade_id": "cold-1"}})
print(json.dumps({{"after_import": after_import, "after_mirror": sorted(sys.modules)}}))
"""


def test_importing_main_and_mirroring_a_trade_loads_no_heavy_module(db):
    uid = f"cold-{uuid.uuid4().hex[:8]}"
    trade = {
        "trade_id": "cold-1", "tenant_id": "cold", "uid": uid, "symbol": "AAPL",
        "asset_class": "EQUITY", "side": "buy", "qty": 1.0, "price": 100.0, "notional": 100.0,
        "fees": 0.0, "currency": "USD", "estimated_slippage": None, "strategy_id": "manual",
        "timestamp": "2026-01-05T15:00:00Z", "trading_date": "2026-01-05", "broker": "paper",
        "broker_order_id": "p-1", "client_order_id": "cold-1",
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(trade=repr(trade))],
        cwd=ROOT / "functions",
        env={**os.environ, **emulator_environment()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    for stage in ("after_import", "after_mirror"):
        loaded = [m for m in modules[stage] if m.split(".")[0] in HEAVY or m.startswith(HEAVY)]
        assert loaded == [], stage
    assert "smart_routing.portfolio.history" in modules["after_mirror"]  # the mirror really ran
    assert db.document(f"users/{uid}/portfolio/history/trades/cold-1").get().exists
