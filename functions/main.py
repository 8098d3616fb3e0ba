"""Cloud Functions entry points: decorators and wiring only; the work is in the modules.

Heavy modules load inside the function that uses them, so each cold start pays only for its
own function.
"""

from firebase_functions import firestore_fn, https_fn, options, params, scheduler_fn, tasks_fn

from smart_routing_firebase.platform import app, request_guard
from smart_routing_firebase.platform.app_check import app_check_required
from smart_routing_firebase.platform.deployment import REGION
from smart_routing_firebase.platform.task_queue import MalformedTask, refuse_malformed

# One vCPU or more, or Cloud Functions forces concurrency to 1 (set_global_options' own default
# is "gcf_gen1", a fraction of a CPU). Each function still states its own settings below; what
# they allow and cost is in docs/deploy.md.
options.set_global_options(region=REGION, cpu=1)

# Instance limits, chosen at deploy time (the CLI asks, or reads functions/.env.<project>). The
# scheduled functions run one tick at a time: one instance, one request.
EXECUTE_STRATEGY_MIN_INSTANCES = params.IntParam(
    "EXECUTE_STRATEGY_MIN_INSTANCES",
    default=1,
    description="execute_strategy instances kept warm (billed while idle); 0 saves that cost",
)
EXECUTE_STRATEGY_MAX_INSTANCES = params.IntParam(
    "EXECUTE_STRATEGY_MAX_INSTANCES",
    default=100,
    description="execute_strategy instances at most, each serving 80 requests at once",
)
LINK_VENUE_ACCOUNT_MAX_INSTANCES = params.IntParam(
    "LINK_VENUE_ACCOUNT_MAX_INSTANCES",
    default=5,
    description="link_venue_account instances at most (a tenant admin links a user: rare calls)",
)
UNLINK_VENUE_ACCOUNT_MAX_INSTANCES = params.IntParam(
    "UNLINK_VENUE_ACCOUNT_MAX_INSTANCES",
    default=5,
    description="unlink_venue_account instances at most (a tenant admin ends a link: rare calls)",
)
SET_TRADING_STATE_MAX_INSTANCES = params.IntParam(
    "SET_TRADING_STATE_MAX_INSTANCES",
    default=5,
    description="set_trading_state instances at most (a tenant admin's kill switch: rare calls)",
)
MIRROR_LEDGER_TRADE_MAX_INSTANCES = params.IntParam(
    "MIRROR_LEDGER_TRADE_MAX_INSTANCES",
    default=50,
    description="mirror_ledger_trade instances at most, each applying 80 trades at once",
)
RECONCILE_NEW_ORDER_MAX_INSTANCES = params.IntParam(
    "RECONCILE_NEW_ORDER_MAX_INSTANCES",
    default=5,
    description="reconcile_new_order instances at most, each reconciling 4 new orders at once",
)
RUNSCHEDULEDSTRATEGY_MAX_INSTANCES = params.IntParam(
    "RUNSCHEDULEDSTRATEGY_MAX_INSTANCES",
    default=20,
    description="runscheduledstrategy instances at most, each running 20 strategy configs at once",
)
RUNSCHEDULEDSTRATEGY_MAX_CONCURRENT_DISPATCHES = params.IntParam(
    "RUNSCHEDULEDSTRATEGY_MAX_CONCURRENT_DISPATCHES",
    default=400,
    description="strategy-config tasks running at once, over all instances (the venues' and "
    "Firestore's load follows it)",
)
RUNSCHEDULEDSTRATEGY_MAX_DISPATCHES_PER_SECOND = params.IntParam(
    "RUNSCHEDULEDSTRATEGY_MAX_DISPATCHES_PER_SECOND",
    default=50,
    description="strategy-config tasks started per second (a tick of N configs takes N/this s)",
)
RECONCILEVENUEACCOUNT_MAX_INSTANCES = params.IntParam(
    "RECONCILEVENUEACCOUNT_MAX_INSTANCES",
    default=10,
    description="reconcilevenueaccount instances at most, each reconciling 20 venue accounts "
    "at once",
)
RECONCILEVENUEACCOUNT_MAX_CONCURRENT_DISPATCHES = params.IntParam(
    "RECONCILEVENUEACCOUNT_MAX_CONCURRENT_DISPATCHES",
    default=100,
    description="venue-account reconcile tasks running at once, over all instances (each "
    "account task makes one venue request)",
)
RECONCILEVENUEACCOUNT_MAX_DISPATCHES_PER_SECOND = params.IntParam(
    "RECONCILEVENUEACCOUNT_MAX_DISPATCHES_PER_SECOND",
    default=100,
    description="venue-account reconcile tasks started per second (N linked accounts take "
    "N/this s of each one-minute run)",
)
EXPIRELIMITORDER_MAX_INSTANCES = params.IntParam(
    "EXPIRELIMITORDER_MAX_INSTANCES",
    default=10,
    description="expirelimitorder instances at most, each canceling 20 limit orders at once",
)

# App Check on the callables: on when deployed; the emulators' env file turns it off (there
# is no App Check emulator, and the SDK checks tokens against Google's keys). on_call's
# enforce_app_check takes no param, so app_check_required reads it per request.
EXEC_ENFORCE_APP_CHECK = params.BoolParam(
    "EXEC_ENFORCE_APP_CHECK",
    default=True,
    description="refuse callable requests without a valid App Check token (401)",
)

# Venue keys: Secret Manager, bound only to the functions that trade. Unset, each venue's
# asset classes trade on the paper broker over the simulated market.
VENUE_SECRETS = [
    params.SecretParam("ALPACA_API_KEY"),
    params.SecretParam("ALPACA_SECRET_KEY"),
    params.SecretParam("OANDA_ACCESS_TOKEN"),
    params.SecretParam("OANDA_ACCOUNT_ID"),
    # EXEC_ALPACA_API=broker: the platform's Broker API keys, one Alpaca account per end user.
    params.SecretParam("ALPACA_BROKER_API_KEY"),
    params.SecretParam("ALPACA_BROKER_SECRET_KEY"),
]
# Callable token checks run before any handler code, so the Admin SDK must be ready now.
app.initialize()


# Malformed bodies get invalid-argument with a reason, never the SDK's 500 INTERNAL.
# firebase_functions types on_call as returning the function it wraps; it returns a function of
# the raw flask Request, which is what reject_malformed takes.
@request_guard.reject_malformed  # type: ignore[arg-type]
@https_fn.on_call(
    cpu=1,
    concurrency=80,
    memory=options.MemoryOption.GB_1,
    timeout_sec=60,
    min_instances=EXECUTE_STRATEGY_MIN_INSTANCES,
    max_instances=EXECUTE_STRATEGY_MAX_INSTANCES,
    secrets=VENUE_SECRETS,
)
@app_check_required(EXEC_ENFORCE_APP_CHECK)
def execute_strategy(request: https_fn.CallableRequest) -> dict:
    from smart_routing_firebase.handlers.execute_strategy import handle_execute_strategy

    return handle_execute_strategy(request)


# The kill switch: a tenant's admin sets the tenant's or a user's trading state (on_call's
# type hint, as above, is not what it returns).
@request_guard.reject_malformed  # type: ignore[arg-type]
@https_fn.on_call(
    cpu=1,
    concurrency=80,
    memory=options.MemoryOption.MB_256,
    timeout_sec=30,
    max_instances=SET_TRADING_STATE_MAX_INSTANCES,
)
@app_check_required(EXEC_ENFORCE_APP_CHECK)
def set_trading_state(request: https_fn.CallableRequest) -> dict:
    from smart_routing_firebase.handlers.set_trading_state import handle_set_trading_state

    return handle_set_trading_state(request)


# A tenant's admin links a user to their own Alpaca account (Broker API deployments).
@request_guard.reject_malformed  # type: ignore[arg-type]
@https_fn.on_call(
    cpu=1,
    concurrency=80,
    memory=options.MemoryOption.MB_512,
    timeout_sec=30,
    max_instances=LINK_VENUE_ACCOUNT_MAX_INSTANCES,
    secrets=VENUE_SECRETS,
)
@app_check_required(EXEC_ENFORCE_APP_CHECK)
def link_venue_account(request: https_fn.CallableRequest) -> dict:
    from smart_routing_firebase.handlers.link_venue_account import handle_link_venue_account

    return handle_link_venue_account(request)


# A tenant's admin ends a user's link (Broker API deployments). Firestore only: no venue keys.
@request_guard.reject_malformed  # type: ignore[arg-type]
@https_fn.on_call(
    cpu=1,
    concurrency=80,
    memory=options.MemoryOption.MB_512,
    timeout_sec=30,
    max_instances=UNLINK_VENUE_ACCOUNT_MAX_INSTANCES,
)
@app_check_required(EXEC_ENFORCE_APP_CHECK)
def unlink_venue_account(request: https_fn.CallableRequest) -> dict:
    from smart_routing_firebase.handlers.unlink_venue_account import handle_unlink_venue_account

    return handle_unlink_venue_account(request)


@firestore_fn.on_document_created(
    document="tenants/{tenant_id}/ledger_trades/{trade_id}",
    cpu=1,
    concurrency=80,
    memory=options.MemoryOption.MB_512,
    timeout_sec=60,
    max_instances=MIRROR_LEDGER_TRADE_MAX_INSTANCES,
)
def mirror_ledger_trade(event: firestore_fn.Event[firestore_fn.DocumentSnapshot | None]) -> None:
    from smart_routing_firebase.handlers.mirror_ledger_trade import handle_ledger_trade_created

    data = event.data.to_dict() if event.data is not None else None
    handle_ledger_trade_created(data, dict(event.params))


# What a lost mirror_ledger_trade event left undone (Firestore triggers are never retried).
@scheduler_fn.on_schedule(
    schedule="every 2 minutes",
    cpu=1,
    concurrency=1,
    memory=options.MemoryOption.MB_512,
    timeout_sec=300,
    max_instances=1,
)
def sweep_unmirrored_trades(event: scheduler_fn.ScheduledEvent) -> None:
    from smart_routing_firebase.handlers.sweep_unmirrored_trades import handle_sweep

    handle_sweep(event.schedule_time)


# The tick fans out: one runscheduledstrategy task per enabled config, the tick's quotes fetched
# once for them all. A retry of the tick enqueues only what is missing.
@scheduler_fn.on_schedule(
    schedule="every 5 minutes",
    retry_count=3,
    min_backoff_seconds=10,
    cpu=1,
    concurrency=1,
    memory=options.MemoryOption.MB_512,
    timeout_sec=120,
    max_instances=1,
    secrets=VENUE_SECRETS,
)
def run_scheduled_strategies(event: scheduler_fn.ScheduledEvent) -> None:
    from smart_routing_firebase.handlers.run_scheduled_strategies import handle_scheduled_run

    handle_scheduled_run(event.schedule_time)


# One strategy config's runs for one tick (handlers/run_scheduled_strategy.py). A task that
# raised (a run failed, or its budget ran out) is delivered again; the runs' execution claims
# keep what finished from running twice. Task queue ids take no "_": hence the name.
@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=5, min_backoff_seconds=10),
    rate_limits=options.RateLimits(
        max_concurrent_dispatches=RUNSCHEDULEDSTRATEGY_MAX_CONCURRENT_DISPATCHES,
        max_dispatches_per_second=RUNSCHEDULEDSTRATEGY_MAX_DISPATCHES_PER_SECOND,
    ),
    cpu=1,
    concurrency=20,
    memory=options.MemoryOption.GB_1,
    timeout_sec=120,
    max_instances=RUNSCHEDULEDSTRATEGY_MAX_INSTANCES,
    secrets=VENUE_SECRETS,
)
def runscheduledstrategy(request: tasks_fn.CallableRequest) -> dict:
    from smart_routing_firebase.handlers.run_scheduled_strategy import handle_strategy_task

    try:
        return dict(handle_strategy_task(request.data))
    except MalformedTask as exc:  # answered 2xx: a retry of it cannot help
        return {"refused": refuse_malformed("runscheduledstrategy", exc)}


@scheduler_fn.on_schedule(
    schedule="every 1 minutes",
    cpu=1,
    concurrency=1,
    memory=options.MemoryOption.MB_512,
    timeout_sec=120,
    max_instances=1,
    secrets=VENUE_SECRETS,
)
def reconcile_venues(event: scheduler_fn.ScheduledEvent) -> None:
    from smart_routing_firebase.handlers.reconcile_venues import handle_reconcile

    handle_reconcile(event.schedule_time)


# A reconcile run's work per linked venue account (Broker API): pages of links, each enqueueing
# its accounts' tasks under ids of the run's own (handlers/reconcile_venue_account.py). A task
# that raised is delivered again; each rewrites what it wrote. No "_" in task queue ids.
@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=3, min_backoff_seconds=10),
    rate_limits=options.RateLimits(
        max_concurrent_dispatches=RECONCILEVENUEACCOUNT_MAX_CONCURRENT_DISPATCHES,
        max_dispatches_per_second=RECONCILEVENUEACCOUNT_MAX_DISPATCHES_PER_SECOND,
    ),
    cpu=1,
    concurrency=20,
    memory=options.MemoryOption.MB_512,
    timeout_sec=60,
    max_instances=RECONCILEVENUEACCOUNT_MAX_INSTANCES,
    secrets=VENUE_SECRETS,
)
def reconcilevenueaccount(request: tasks_fn.CallableRequest) -> dict:
    from smart_routing_firebase.handlers.reconcile_venue_account import handle_account_task

    try:
        return dict(handle_account_task(request.data))
    except MalformedTask as exc:  # answered 2xx: a retry of it cannot help
        return {"refused": refuse_malformed("reconcilevenueaccount", exc)}


# On write, not create: a real venue's order is created `submitting` before the venue answers.
# Each event reconciles that one order (reconciliation/one_order.py): few at once, to spare the
# venues' rate limits, which order submission shares.
@firestore_fn.on_document_written(
    document="tenants/{tenant_id}/orders/{client_order_id}",
    cpu=1,
    concurrency=4,
    memory=options.MemoryOption.MB_512,
    timeout_sec=120,
    max_instances=RECONCILE_NEW_ORDER_MAX_INSTANCES,
    secrets=VENUE_SECRETS,
)
def reconcile_new_order(
    event: firestore_fn.Event[firestore_fn.Change[firestore_fn.DocumentSnapshot | None]],
) -> None:
    from smart_routing_firebase.handlers.reconcile_new_order import handle_order_written

    before, after = event.data.before, event.data.after
    handle_order_written(
        before.to_dict() if before is not None else None,
        after.to_dict() if after is not None else None,
    )


# A fallback limit order's time to live (smart_routing_firebase/reconciliation/limit_expiry.py).
# Task queue ids take no "_": hence the name.
@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=5, min_backoff_seconds=10),
    cpu=1,
    concurrency=20,
    memory=options.MemoryOption.MB_512,
    timeout_sec=60,
    max_instances=EXPIRELIMITORDER_MAX_INSTANCES,
    secrets=VENUE_SECRETS,
)
def expirelimitorder(request: tasks_fn.CallableRequest) -> str:
    from smart_routing_firebase.handlers.expire_limit_order import handle_expiry_task

    try:
        return handle_expiry_task(request.data)
    except MalformedTask as exc:  # answered 2xx: a retry of it cannot help
        return f"refused: {refuse_malformed('expirelimitorder', exc)}"


@scheduler_fn.on_schedule(
    schedule="every 10 minutes",
    cpu=1,
    concurrency=1,
    memory=options.MemoryOption.MB_512,
    timeout_sec=300,
    max_instances=1,
)
def roll_up_tca(event: scheduler_fn.ScheduledEvent) -> None:
    from smart_routing_firebase.handlers.roll_up_tca import handle_tca_rollup

    handle_tca_rollup(event.schedule_time)
