"""The session table: each boundary, holidays and half days, overrides, and the gate's use."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.config.engine_config import load_config
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import ConfigError
from smart_routing.domain.orders import AccountSnapshot, OrderIntent
from smart_routing.gate.decision import GateAction
from smart_routing.gate.policy import STRATEGY_SOURCE, RoutingPolicy
from smart_routing.gate.router import SmartRouter
from smart_routing.market.quotes import Quote
from smart_routing.market.sessions import Session, SessionRule, SessionTable, classify
from smart_routing.market.trading_calendar import NEW_YORK, us_close_time

D = Decimal
EQ, OPT, FX, CRYPTO = AssetClass.EQUITY, AssetClass.OPTIONS, AssetClass.FOREX, AssetClass.CRYPTO


def ny(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), NEW_YORK)


TUESDAY = date(2025, 12, 30)  # an ordinary trading day
HALF_DAY = date(2025, 12, 24)  # Christmas Eve: closes at 13:00
GOOD_FRIDAY = date(2026, 4, 3)


@pytest.mark.parametrize(
    ("at", "equity", "options"),
    [
        (ny(TUESDAY, 3, 59, 59), Session.US_CLOSED, Session.US_CLOSED),
        (ny(TUESDAY, 4, 0), Session.US_PRE_MARKET, Session.US_CLOSED),
        (ny(TUESDAY, 9, 29, 59), Session.US_PRE_MARKET, Session.US_CLOSED),
        (ny(TUESDAY, 9, 30), Session.US_OPEN, Session.US_OPEN),
        (ny(TUESDAY, 9, 44, 59), Session.US_OPEN, Session.US_OPEN),
        (ny(TUESDAY, 9, 45), Session.US_REGULAR, Session.US_REGULAR),
        (ny(TUESDAY, 15, 44, 59), Session.US_REGULAR, Session.US_REGULAR),
        (ny(TUESDAY, 15, 45), Session.US_CLOSE, Session.US_CLOSE),
        (ny(TUESDAY, 15, 59, 59), Session.US_CLOSE, Session.US_CLOSE),
        (ny(TUESDAY, 16, 0), Session.US_AFTER_HOURS, Session.US_CLOSED),
        (ny(TUESDAY, 19, 59, 59), Session.US_AFTER_HOURS, Session.US_CLOSED),
        (ny(TUESDAY, 20, 0), Session.US_CLOSED, Session.US_CLOSED),
        # Christmas Eve closes at 13:00: the close window and after-hours move with it.
        (ny(HALF_DAY, 12, 44, 59), Session.US_REGULAR, Session.US_REGULAR),
        (ny(HALF_DAY, 12, 45), Session.US_CLOSE, Session.US_CLOSE),
        (ny(HALF_DAY, 13, 0), Session.US_AFTER_HOURS, Session.US_CLOSED),
        (ny(HALF_DAY, 16, 59, 59), Session.US_AFTER_HOURS, Session.US_CLOSED),
        (ny(HALF_DAY, 17, 0), Session.US_CLOSED, Session.US_CLOSED),
        # Holidays and weekends are closed all day.
        (ny(date(2025, 12, 25), 11, 0), Session.US_CLOSED, Session.US_CLOSED),
        (ny(GOOD_FRIDAY, 11, 0), Session.US_CLOSED, Session.US_CLOSED),
        (ny(date(2026, 1, 3), 11, 0), Session.US_CLOSED, Session.US_CLOSED),  # Saturday
    ],
)
def test_us_sessions_at_each_boundary(at, equity, options):
    assert classify(EQ, at) == equity
    assert classify(OPT, at) == options
    assert classify(EQ, at.astimezone(UTC)) == equity  # any offset, same instant


def test_the_open_and_close_windows_take_their_configured_length():
    assert classify(EQ, ny(TUESDAY, 9, 34), open_minutes=5) is Session.US_OPEN
    assert classify(EQ, ny(TUESDAY, 9, 35), open_minutes=5) is Session.US_REGULAR
    assert classify(EQ, ny(TUESDAY, 15, 50), close_minutes=5) is Session.US_REGULAR
    assert classify(EQ, ny(TUESDAY, 15, 55), close_minutes=5) is Session.US_CLOSE
    assert classify(EQ, ny(TUESDAY, 9, 30), open_minutes=0) is Session.US_REGULAR


@pytest.mark.parametrize(
    ("day", "close"),
    [
        (date(2025, 1, 1), None),  # New Year's Day
        (date(2022, 12, 30), time(16)),  # New Year's 2023 on a Sunday: observed Monday Jan 2
        (date(2023, 1, 2), None),
        (date(2021, 12, 31), time(16)),  # New Year's 2022 on a Saturday: not observed
        (date(2025, 1, 20), None),  # Martin Luther King Jr. Day
        (date(2025, 2, 17), None),  # Washington's Birthday
        (date(2025, 4, 18), None),  # Good Friday
        (date(2025, 5, 26), None),  # Memorial Day
        (date(2025, 6, 19), None),  # Juneteenth
        (date(2021, 6, 18), time(16)),  # before Juneteenth was an exchange holiday
        (date(2026, 7, 3), None),  # July 4 on a Saturday: observed Friday
        (date(2025, 7, 3), time(13)),  # half day
        (date(2025, 9, 1), None),  # Labor Day
        (date(2025, 11, 27), None),  # Thanksgiving
        (date(2025, 11, 28), time(13)),  # the day after: half day
        (date(2025, 12, 24), time(13)),
        (date(2022, 12, 26), None),  # Christmas on a Sunday: observed Monday
        (date(2025, 12, 30), time(16)),
        (date(2025, 12, 27), None),  # Saturday
    ],
)
def test_the_us_calendar_knows_holidays_and_half_days(day, close):
    assert us_close_time(day) == close


@pytest.mark.parametrize(
    ("at", "session"),
    [
        (ny(TUESDAY, 16, 54, 59), Session.FX_REGULAR),
        (ny(TUESDAY, 16, 55), Session.FX_ROLLOVER),
        (ny(TUESDAY, 16, 55, 30), Session.FX_ROLLOVER),
        (ny(TUESDAY, 17, 4, 59), Session.FX_ROLLOVER),
        (ny(TUESDAY, 17, 5), Session.FX_REGULAR),
        (ny(date(2026, 1, 2), 15, 59, 59), Session.FX_REGULAR),  # Friday
        (ny(date(2026, 1, 2), 16, 0), Session.FX_WEEKEND_EDGE),
        (ny(date(2026, 1, 2), 16, 59, 59), Session.FX_WEEKEND_EDGE),
        (ny(date(2026, 1, 2), 17, 0), Session.FX_CLOSED),
        (ny(date(2026, 1, 3), 12, 0), Session.FX_CLOSED),  # Saturday
        (ny(date(2026, 1, 4), 16, 59, 59), Session.FX_CLOSED),  # Sunday before the open
        (ny(date(2026, 1, 4), 17, 0), Session.FX_WEEKEND_EDGE),
        (ny(date(2026, 1, 4), 17, 59, 59), Session.FX_WEEKEND_EDGE),
        (ny(date(2026, 1, 4), 18, 0), Session.FX_REGULAR),
    ],
)
def test_forex_sessions_around_the_rollover_and_the_weekend(at, session):
    assert classify(FX, at) == session


@pytest.mark.parametrize(
    ("at", "session"),
    [
        (datetime(2026, 1, 2, 23, 59, 59, tzinfo=UTC), Session.CRYPTO_WEEKDAY),  # Friday
        (datetime(2026, 1, 3, 0, 0, tzinfo=UTC), Session.CRYPTO_WEEKEND),
        (datetime(2026, 1, 4, 23, 59, 59, tzinfo=UTC), Session.CRYPTO_WEEKEND),
        (datetime(2026, 1, 5, 0, 0, tzinfo=UTC), Session.CRYPTO_WEEKDAY),
    ],
)
def test_crypto_weekends_are_utc_days(at, session):
    assert classify(CRYPTO, at) == session


def test_the_cached_lookup_agrees_with_the_rules_across_a_week():
    table = SessionTable()
    start = ny(TUESDAY, 0, 0)
    # Every boundary is a whole minute: the cache by the minute agrees at any second of it.
    for minutes in range(0, 7 * 24 * 60):
        for seconds in (0, 59):
            at = start + timedelta(minutes=minutes, seconds=seconds)
            for asset_class in AssetClass:
                assert table.session_of(asset_class, at) == classify(asset_class, at)


def test_the_session_scales_the_class_threshold_and_names_itself():
    policy = RoutingPolicy()
    regular = policy.threshold_for(EQ, None, Session.US_REGULAR)
    assert (regular.value, regular.source) == (D("0.001"), "default")
    after = policy.threshold_for(EQ, None, Session.US_AFTER_HOURS)
    assert (after.value, after.source) == (D("0.003"), "default x3 us_after_hours")
    assert policy.threshold_for(EQ).value == D("0.001")  # no session: the class's own


def test_a_strategy_maximum_is_a_ceiling_no_session_loosens():
    policy = RoutingPolicy()
    strict = policy.threshold_for(EQ, D("0.002"), Session.US_AFTER_HOURS)
    assert (strict.value, strict.source) == (D("0.002"), STRATEGY_SOURCE)
    # Looser than the session's threshold: the session's binds.
    loose = policy.threshold_for(EQ, D("0.01"), Session.US_AFTER_HOURS)
    assert loose.value == D("0.003")


def test_settings_override_the_table_and_absolute_wins():
    config = load_config(
        {
            "EXEC_SESSION_MULTIPLIER_US_OPEN": "4",
            "EXEC_SESSION_MULTIPLIER_US_OPEN_OPTIONS": "1.1",
            "EXEC_SESSION_MAX_SPREAD_PCT_CRYPTO_WEEKEND": "0.0025",
            "EXEC_SESSION_MULTIPLIER_US_AFTER_HOURS": "0",
            "EXEC_SESSION_OPEN_MINUTES": "5",
        }
    )
    policy = config.routing
    assert policy.sessions.rule(Session.US_OPEN, EQ) == SessionRule(multiplier=D(4))
    assert policy.sessions.rule(Session.US_OPEN, OPT).multiplier == D("1.1")
    assert policy.threshold_for(EQ, None, Session.US_OPEN).value == D("0.004")
    weekend = policy.threshold_for(CRYPTO, None, Session.CRYPTO_WEEKEND)
    assert weekend.value == D("0.0025")
    assert weekend.source == "EXEC_SESSION_MAX_SPREAD_PCT_CRYPTO_WEEKEND (crypto_weekend)"
    assert policy.threshold_for(EQ, None, Session.US_AFTER_HOURS).value == 0
    assert policy.sessions.open_minutes == 5


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EXEC_SESSION_MULTIPLIER_US_OPEN_FOREX": "2"}, "us_open applies to EQUITY, OPTIONS"),
        ({"EXEC_SESSION_MULTIPLIER_LUNCH": "2"}, "unknown session 'LUNCH'"),
        ({"EXEC_SESSION_MULTIPLIERS": "2"}, "EXEC_SESSION_MULTIPLIERS is not a setting"),
        ({"EXEC_SESSION_FOO": "1"}, "EXEC_SESSION_FOO is not a setting"),
        ({"EXEC_SESSION_MULTIPLIER_US_OPEN": "-1"}, "must be at least 0"),
        ({"EXEC_SESSION_MULTIPLIER_US_OPEN": "1000"}, "must be at most 100"),
        ({"EXEC_SESSION_MULTIPLIER_US_OPEN": "two"}, "is not a finite number"),
        ({"EXEC_SESSION_MAX_SPREAD_PCT_US_OPEN": "2"}, "must be a fraction between 0 and 1"),
        ({"EXEC_SESSION_OPEN_MINUTES": "-5"}, "whole number of minutes from 0 to 120"),
        ({"EXEC_SESSION_CLOSE_MINUTES": "500"}, "whole number of minutes from 0 to 120"),
    ],
)
def test_bad_session_settings_are_clear_errors(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_config(env)


def test_the_gate_names_the_session_and_applies_its_threshold(clock):
    instruments = BuiltinInstruments()
    order = OrderIntent(symbol="AAPL", side="buy", qty=1)
    spec = instruments.get_instrument("AAPL", EQ)
    account = AccountSnapshot(cash=D(10**6), buying_power=D(10**6), as_of=clock.now())

    def decide(at: datetime, **intent):
        live = Quote(symbol="AAPL", bid=D("99.9"), ask=D("100.1"), as_of=at, source="t")
        return SmartRouter().decide(
            order.model_copy(update=intent), spec, live, at, account
        )  # a 0.20% spread

    midday = decide(ny(TUESDAY, 12, 0))
    assert midday.session is Session.US_REGULAR and midday.action is GateAction.WAIT
    assert midday.reason == "Spread 0.20% exceeds threshold 0.10% (default)"
    evening = decide(ny(TUESDAY, 17, 0))
    assert evening.session is Session.US_AFTER_HOURS and evening.should_execute
    assert evening.reason == "Spread 0.20% within threshold 0.30% (default x3 us_after_hours)"
    capped = decide(ny(TUESDAY, 17, 0), max_spread_pct=D("0.0015"))
    assert capped.action is GateAction.WAIT and capped.threshold_source == STRATEGY_SOURCE
    assert midday.model_dump(mode="json")["session"] == "us_regular"
    assert midday.log_fields()["session"] is Session.US_REGULAR
