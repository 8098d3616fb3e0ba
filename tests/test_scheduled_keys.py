"""The scheduled run's idempotency keys: one per config, symbol and tick, never shared."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import TypeAdapter

from smart_routing.domain.orders import IdempotencyKey
from smart_routing_firebase.handlers.run_scheduled_strategies import (
    schedule_tick,
    scheduled_idempotency_key,
)

TICK = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
LONG_ID = "a-config-with-a-long-descriptive-name-" * 4
valid_key = TypeAdapter(IdempotencyKey).validate_python


def test_a_short_key_reads_as_config_symbol_and_tick():
    key = scheduled_idempotency_key("crypto_momentum", "BTC/USD", TICK)
    assert key.startswith("schedule:crypto_momentum:BTC/USD:2026-01-05T15:00:00+00:00:")


def test_a_redelivered_tick_gets_the_same_key():
    first = scheduled_idempotency_key(LONG_ID, "BTC/USD", TICK)
    assert scheduled_idempotency_key(LONG_ID, "BTC/USD", TICK) == first


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ((LONG_ID + "1", "BTC/USD", TICK), (LONG_ID + "2", "BTC/USD", TICK)),
        ((LONG_ID, "ETH/USD", TICK), (LONG_ID, "SOL/USD", TICK)),
        ((LONG_ID, "BTC/USD", TICK), (LONG_ID, "BTC/USD", TICK + timedelta(minutes=5))),
        (("a:b", "c", TICK), ("a", "b:c", TICK)),
    ],
    ids=["config", "symbol", "tick", "colons"],
)
def test_keys_sharing_a_long_common_prefix_differ_and_fit(one, other):
    keys = {scheduled_idempotency_key(*one), scheduled_idempotency_key(*other)}
    assert len(keys) == 2
    for key in keys:
        assert valid_key(key) == key


def schedule_time_from_header(header: str) -> datetime:
    """event.schedule_time as firebase-functions parses the X-CloudScheduler-ScheduleTime
    header, through its own wrapper."""
    import flask
    from firebase_functions import scheduler_fn

    seen: list[datetime] = []

    @scheduler_fn.on_schedule(schedule="every 5 minutes")
    def handler(event: scheduler_fn.ScheduledEvent) -> None:
        seen.append(event.schedule_time)

    app = flask.Flask(__name__)
    with app.test_request_context(headers={"X-CloudScheduler-ScheduleTime": header}):
        assert handler(flask.request).status_code == 200
    return seen[0]


@pytest.mark.parametrize(
    "header",
    [
        "2026-01-05T15:00:00Z",
        "2026-01-05T15:00:00.000Z",
        "2026-01-05T15:00:00.999999999Z",
        "2026-01-05T16:00:00+01:00",
        "2026-01-05T15:00:00",
    ],
)
def test_every_form_of_one_tick_gives_the_same_key(header):
    schedule_time = schedule_time_from_header(header)
    assert schedule_tick(schedule_time) == TICK
    key = scheduled_idempotency_key("crypto_momentum", "BTC/USD", schedule_time)
    assert key == scheduled_idempotency_key("crypto_momentum", "BTC/USD", TICK)


def test_the_next_second_is_another_tick():
    later = schedule_time_from_header("2026-01-05T15:00:01Z")
    assert scheduled_idempotency_key("c", "AAPL", later) != scheduled_idempotency_key(
        "c", "AAPL", TICK
    )
