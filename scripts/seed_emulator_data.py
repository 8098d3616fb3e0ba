"""Writes the demo tenant, user and strategy configs into running emulators.

`make emulator-data` runs it against fresh emulators and exports the result to emulator-data/.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "functions"))

from firebase_admin import auth

from smart_routing_firebase.platform.app import firestore_client, initialize
from tools.emulators import emulator_environment

DEMO_TENANT = "demo-tenant"
DEMO_USER = {"uid": "demo-user", "email": "demo@example.com", "password": "demo-password"}

STRATEGIES = {
    "crypto_momentum": {
        "enabled": True,
        "uid": DEMO_USER["uid"],
        "symbols": ["BTC/USD", "ETH/USD", "SOL/USD"],
        "qty": 0.1,
        "description": "Trend following on one-minute bars",
    },
    "aapl_dca": {
        "enabled": True,
        "uid": DEMO_USER["uid"],
        "strategy_id": "manual",
        "side": "buy",
        "symbols": ["AAPL"],
        "qty": 1,
        "description": "Buy one AAPL share every run",
    },
    "eurusd_paused": {
        "enabled": False,
        "uid": DEMO_USER["uid"],
        "strategy_id": "manual",
        "side": "buy",
        "symbols": ["EUR/USD"],
        "qty": 10_000,
        "description": "Paused: never runs",
    },
}


def main() -> None:
    # `firebase emulators:exec` sets these; run by hand, the script finds the emulators itself.
    for name, value in emulator_environment().items():
        os.environ.setdefault(name, value)
    initialize()
    auth.create_user(uid=DEMO_USER["uid"], email=DEMO_USER["email"], password=DEMO_USER["password"])
    auth.set_custom_user_claims(DEMO_USER["uid"], {"tenant_id": DEMO_TENANT})
    db = firestore_client()
    db.document(f"tenants/{DEMO_TENANT}").set({"name": "Demo tenant"})
    for strategy_id, config in STRATEGIES.items():
        db.document(f"tenants/{DEMO_TENANT}/strategies/{strategy_id}").set(config)
    print(f"seeded {DEMO_USER['email']} in {DEMO_TENANT} with {len(STRATEGIES)} strategy configs")


if __name__ == "__main__":
    main()
