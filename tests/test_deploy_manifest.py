"""What `firebase deploy` would create: the manifest the CLI reads from main.py, every
function's cpu, concurrency, memory, timeout, instance limits, secrets and trigger."""

from __future__ import annotations

from typing import Any

import pytest

from tools.deploy_manifest import render_manifest
from tools.emulators import PROJECT_ID, ROOT

ORDERS = "tenants/{tenant_id}/orders/{client_order_id}"
VENUE_SECRETS = ["ALPACA_API_KEY", "ALPACA_SECRET_KEY", "OANDA_ACCESS_TOKEN", "OANDA_ACCOUNT_ID",
                 "ALPACA_BROKER_API_KEY", "ALPACA_BROKER_SECRET_KEY"]  # fmt: skip


def param(name: str) -> str:
    return f"{{{{ params.{name} }}}}"


def firestore_event(document: str, event: str = "created") -> dict[str, Any]:
    return {
        "eventFilterPathPatterns": {"document": document},
        "eventFilters": {"database": "(default)", "namespace": "(default)"},
        "eventType": f"google.cloud.firestore.document.v1.{event}",
        # firebase-functions 0.6.0 cannot turn retries on: a sweep redoes what a lost event
        # left undone (see README, "Delivery").
        "retry": False,
    }


def schedule(every: str) -> dict[str, Any]:
    return {"scheduleTrigger": {"retryConfig": {}, "schedule": every}}


# name: (cpu, concurrency, memory MB, timeout s, min instances, max instances, secrets, trigger)
EXPECTED: dict[str, tuple[Any, ...]] = {
    "execute_strategy": (
        1, 80, 1024, 60,
        param("EXECUTE_STRATEGY_MIN_INSTANCES"), param("EXECUTE_STRATEGY_MAX_INSTANCES"),
        VENUE_SECRETS, {"callableTrigger": {}},
    ),
    "mirror_ledger_trade": (
        1, 80, 512, 60, None, param("MIRROR_LEDGER_TRADE_MAX_INSTANCES"), [],
        {"eventTrigger": firestore_event("tenants/{tenant_id}/ledger_trades/{trade_id}")},
    ),
    "reconcile_new_order": (
        1, 4, 512, 120, None, param("RECONCILE_NEW_ORDER_MAX_INSTANCES"), VENUE_SECRETS,
        # On write: a real venue's order is created `submitting` before the venue answers.
        {"eventTrigger": firestore_event(ORDERS, "written")},
    ),
    "set_trading_state": (
        1, 80, 256, 30, None, param("SET_TRADING_STATE_MAX_INSTANCES"), [],
        {"callableTrigger": {}},
    ),
    # A tenant admin links a user to their own Alpaca account: asks Alpaca, so the keys.
    "link_venue_account": (
        1, 80, 512, 30, None, param("LINK_VENUE_ACCOUNT_MAX_INSTANCES"), VENUE_SECRETS,
        {"callableTrigger": {}},
    ),
    # A tenant admin ends a link: Firestore only, so no keys.
    "unlink_venue_account": (
        1, 80, 512, 30, None, param("UNLINK_VENUE_ACCOUNT_MAX_INSTANCES"), [],
        {"callableTrigger": {}},
    ),
    # The tick only fans out (retried: a retry enqueues what is missing); the configs run
    # on the runscheduledstrategy queue, whose rate limits are params.
    "run_scheduled_strategies": (
        1, 1, 512, 120, None, 1, VENUE_SECRETS,
        {"scheduleTrigger": {"retryConfig": {"minBackoffSeconds": 10, "retryCount": 3},
                             "schedule": "every 5 minutes"}},
    ),
    "runscheduledstrategy": (
        1, 20, 1024, 120, None, param("RUNSCHEDULEDSTRATEGY_MAX_INSTANCES"), VENUE_SECRETS,
        {"taskQueueTrigger": {
            "rateLimits": {
                "maxConcurrentDispatches": param("RUNSCHEDULEDSTRATEGY_MAX_CONCURRENT_DISPATCHES"),
                "maxDispatchesPerSecond": param("RUNSCHEDULEDSTRATEGY_MAX_DISPATCHES_PER_SECOND"),
            },
            "retryConfig": {"maxAttempts": 5, "minBackoffSeconds": 10},
        }},
    ),
    "reconcile_venues": (1, 1, 512, 120, None, 1, VENUE_SECRETS, schedule("every 1 minutes")),
    # The run's work per linked venue account (Broker API), one task per page and per account.
    "reconcilevenueaccount": (
        1, 20, 512, 60, None, param("RECONCILEVENUEACCOUNT_MAX_INSTANCES"), VENUE_SECRETS,
        {"taskQueueTrigger": {
            "rateLimits": {
                "maxConcurrentDispatches": param("RECONCILEVENUEACCOUNT_MAX_CONCURRENT_DISPATCHES"),
                "maxDispatchesPerSecond": param("RECONCILEVENUEACCOUNT_MAX_DISPATCHES_PER_SECOND"),
            },
            "retryConfig": {"maxAttempts": 3, "minBackoffSeconds": 10},
        }},
    ),
    "sweep_unmirrored_trades": (1, 1, 512, 300, None, 1, [], schedule("every 2 minutes")),
    "roll_up_tca": (1, 1, 512, 300, None, 1, [], schedule("every 10 minutes")),
    "expirelimitorder": (
        1, 20, 512, 60, None, param("EXPIRELIMITORDER_MAX_INSTANCES"), VENUE_SECRETS,
        {"taskQueueTrigger": {"retryConfig": {"maxAttempts": 5, "minBackoffSeconds": 10}}},
    ),
}  # fmt: skip
TRIGGER_KEYS = {"callableTrigger", "eventTrigger", "scheduleTrigger", "taskQueueTrigger"}

# The instance-limit params and their defaults (what a deploy uses unless told otherwise).
EXPECTED_PARAMS = {
    "EXECUTE_STRATEGY_MIN_INSTANCES": 1,
    "EXECUTE_STRATEGY_MAX_INSTANCES": 100,
    "MIRROR_LEDGER_TRADE_MAX_INSTANCES": 50,
    "RECONCILE_NEW_ORDER_MAX_INSTANCES": 5,
    "EXPIRELIMITORDER_MAX_INSTANCES": 10,
    "RUNSCHEDULEDSTRATEGY_MAX_INSTANCES": 20,
    "RUNSCHEDULEDSTRATEGY_MAX_CONCURRENT_DISPATCHES": 400,
    "RUNSCHEDULEDSTRATEGY_MAX_DISPATCHES_PER_SECOND": 50,
    "RECONCILEVENUEACCOUNT_MAX_INSTANCES": 10,
    "RECONCILEVENUEACCOUNT_MAX_CONCURRENT_DISPATCHES": 100,
    "RECONCILEVENUEACCOUNT_MAX_DISPATCHES_PER_SECOND": 100,
    "SET_TRADING_STATE_MAX_INSTANCES": 5,
    "LINK_VENUE_ACCOUNT_MAX_INSTANCES": 5,
    "UNLINK_VENUE_ACCOUNT_MAX_INSTANCES": 5,
}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return render_manifest()


def test_the_manifest_deploys_exactly_these_functions(manifest):
    assert sorted(manifest["endpoints"]) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_function_deploys_with_its_settings(manifest, name):
    endpoint = manifest["endpoints"][name]
    cpu, concurrency, memory, timeout, min_instances, max_instances, secrets, trigger = EXPECTED[
        name
    ]
    settings = {
        "cpu": endpoint["cpu"],
        "concurrency": endpoint["concurrency"],
        "memory": endpoint["availableMemoryMb"],
        "timeout": endpoint["timeoutSeconds"],
        "min_instances": endpoint["minInstances"],
        "max_instances": endpoint["maxInstances"],
        "secrets": [s["key"] for s in endpoint["secretEnvironmentVariables"]],
        "trigger": {key: endpoint[key] for key in TRIGGER_KEYS & endpoint.keys()},
        "region": endpoint["region"],
        "platform": endpoint["platform"],
    }
    assert settings == {
        "cpu": cpu,
        "concurrency": concurrency,
        "memory": memory,
        "timeout": timeout,
        "min_instances": min_instances,
        "max_instances": max_instances,
        "secrets": secrets,
        "trigger": trigger,
        "region": ["us-central1"],
        "platform": "gcfv2",
    }


def test_no_function_falls_back_to_a_fraction_of_a_cpu(manifest):
    """Below one vCPU Cloud Functions forces concurrency to 1."""
    assert {name: e["cpu"] for name, e in manifest["endpoints"].items() if e["cpu"] != 1} == {}


def test_the_instance_limits_are_params_with_platform_defaults(manifest):
    declared = {p["name"]: p for p in manifest["params"]}
    assert {name: declared[name]["type"] for name in EXPECTED_PARAMS} == dict.fromkeys(
        EXPECTED_PARAMS, "int"
    )
    assert {name: declared[name]["default"] for name in EXPECTED_PARAMS} == EXPECTED_PARAMS
    assert all(declared[name].get("description") for name in EXPECTED_PARAMS)
    secrets = sorted(p["name"] for p in manifest["params"] if p["type"] == "secret")
    assert secrets == sorted(VENUE_SECRETS)


def test_app_check_is_a_param_enforced_by_default(manifest):
    """on_call's enforce_app_check takes no param (a bool read as main.py loads), so the
    callables read EXEC_ENFORCE_APP_CHECK per request (platform/app_check.py): a deploy
    enforces App Check unless the project's env file says false."""
    declared = {p["name"]: p for p in manifest["params"]}
    app_check = declared["EXEC_ENFORCE_APP_CHECK"]
    assert (app_check["type"], app_check["default"]) == ("boolean", True)
    assert app_check.get("description")


def emulator_env_file() -> dict[str, str]:
    lines = (ROOT / "functions" / f".env.{PROJECT_ID}").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_emulator_project_sets_every_param_so_nothing_stops_to_ask(manifest):
    """The CLI asks for a param that no dotenv file sets, the emulators included (and a
    non-interactive deploy fails): the demo project's file sets each, the instance limits at
    their defaults, App Check off (the emulators have no App Check)."""
    values = emulator_env_file()
    declared = {p["name"]: p.get("default") for p in manifest["params"] if p["type"] != "secret"}
    assert set(declared) <= set(values)
    assert {name: int(values[name]) for name in EXPECTED_PARAMS} == EXPECTED_PARAMS
    assert values["EXEC_ENFORCE_APP_CHECK"] == "false"
    assert set(declared) == {*EXPECTED_PARAMS, "EXEC_ENFORCE_APP_CHECK"}
