"""Trading sessions, and how each scales the gate's spread threshold (docs/cost-model.md).

The session of an order is read off the clock in the market's own time zone (the full table,
with its hours, is in docs/cost-model.md):

  us_pre_market   04:00-09:30 New York on trading days (equity)
  us_open         the first `open_minutes` (15) of the regular session (equity, options)
  us_regular      09:30-16:00, 13:00 on half days, between the open and close windows
  us_close        the last `close_minutes` (15) of the regular session
  us_after_hours  the close to four hours after it (equity)
  us_closed       nights, weekends, holidays; options outside the regular session
  fx_rollover     16:55-17:05 New York, Monday to Thursday: the day rolls, spreads widen
  fx_weekend_edge Friday 16:00-17:00 and Sunday 17:00-18:00, around the weekend close
  fx_closed       Friday 17:00 to Sunday 17:00 New York
  fx_regular      the rest of the FX week
  crypto_weekend  Saturday and Sunday, UTC; crypto_weekday the other days

Each (session, class) has a rule: a multiplier of the class's threshold (above 1 accepts the
wider spread that is normal in a thin session; 0 holds every order in it), or an absolute
threshold. `DEFAULT_RULES` is the built-in table; `EXEC_SESSION_*` settings override it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from smart_routing.domain.assets import AssetClass
from smart_routing.market.trading_calendar import (
    NEW_YORK,
    US_AFTER_HOURS_LENGTH,
    US_OPEN,
    US_PRE_MARKET_OPEN,
    us_close_time,
)

DEFAULT_OPEN_MINUTES = 15
DEFAULT_CLOSE_MINUTES = 15
_FX_ROLL_HALF_WIDTH = timedelta(minutes=5)
_FX_EDGE = timedelta(hours=1)
_ONE = Decimal(1)


class Session(StrEnum):
    US_PRE_MARKET = "us_pre_market"
    US_OPEN = "us_open"
    US_REGULAR = "us_regular"
    US_CLOSE = "us_close"
    US_AFTER_HOURS = "us_after_hours"
    US_CLOSED = "us_closed"
    FX_ROLLOVER = "fx_rollover"
    FX_WEEKEND_EDGE = "fx_weekend_edge"
    FX_CLOSED = "fx_closed"
    FX_REGULAR = "fx_regular"
    CRYPTO_WEEKEND = "crypto_weekend"
    CRYPTO_WEEKDAY = "crypto_weekday"


_EQUITY, _OPTIONS = AssetClass.EQUITY, AssetClass.OPTIONS
_FOREX, _CRYPTO = AssetClass.FOREX, AssetClass.CRYPTO

# Which classes trade in which session: the table has a rule for exactly these pairs.
SESSION_CLASSES: dict[Session, tuple[AssetClass, ...]] = {
    Session.US_PRE_MARKET: (_EQUITY,),
    Session.US_OPEN: (_EQUITY, _OPTIONS),
    Session.US_REGULAR: (_EQUITY, _OPTIONS),
    Session.US_CLOSE: (_EQUITY, _OPTIONS),
    Session.US_AFTER_HOURS: (_EQUITY,),
    Session.US_CLOSED: (_EQUITY, _OPTIONS),
    Session.FX_ROLLOVER: (_FOREX,),
    Session.FX_WEEKEND_EDGE: (_FOREX,),
    Session.FX_CLOSED: (_FOREX,),
    Session.FX_REGULAR: (_FOREX,),
    Session.CRYPTO_WEEKEND: (_CRYPTO,),
    Session.CRYPTO_WEEKDAY: (_CRYPTO,),
}


class SessionRule(BaseModel):
    """A multiplier of the class threshold, or (when set) an absolute threshold instead."""

    model_config = ConfigDict(frozen=True)

    multiplier: Decimal = Field(default=_ONE, ge=0)
    max_spread_pct: Decimal | None = Field(default=None, ge=0, le=1)
    source: str = "session table"


def _rule(multiplier: str) -> SessionRule:
    return SessionRule(multiplier=Decimal(multiplier))


# Spreads are widest in the thin hours: quoted spreads of US stocks at the open run about twice
# the midday level and several times it outside the regular session; interbank FX spreads widen
# several-fold across the 17:00 New York rollover; crypto books are thinner at weekends.
# Nights, weekends and holidays keep the class threshold: a venue quote then is stale (and the
# fail mode decides) or the venue queues the order for the open.
DEFAULT_RULES: dict[Session, dict[AssetClass, SessionRule]] = {
    Session.US_PRE_MARKET: {_EQUITY: _rule("3")},
    Session.US_OPEN: {_EQUITY: _rule("2"), _OPTIONS: _rule("1.5")},
    Session.US_REGULAR: {_EQUITY: _rule("1"), _OPTIONS: _rule("1")},
    Session.US_CLOSE: {_EQUITY: _rule("1.25"), _OPTIONS: _rule("1.25")},
    Session.US_AFTER_HOURS: {_EQUITY: _rule("3")},
    Session.US_CLOSED: {_EQUITY: _rule("1"), _OPTIONS: _rule("1")},
    Session.FX_ROLLOVER: {_FOREX: _rule("5")},
    Session.FX_WEEKEND_EDGE: {_FOREX: _rule("2")},
    Session.FX_CLOSED: {_FOREX: _rule("1")},
    Session.FX_REGULAR: {_FOREX: _rule("1")},
    Session.CRYPTO_WEEKEND: {_CRYPTO: _rule("1.5")},
    Session.CRYPTO_WEEKDAY: {_CRYPTO: _rule("1")},
}


class SessionTable(BaseModel):
    """The rules and the lengths of the open and close windows."""

    model_config = ConfigDict(frozen=True)

    rules: dict[Session, dict[AssetClass, SessionRule]] = Field(
        default_factory=lambda: {s: dict(r) for s, r in DEFAULT_RULES.items()}
    )
    open_minutes: int = Field(default=DEFAULT_OPEN_MINUTES, ge=0, le=120)
    close_minutes: int = Field(default=DEFAULT_CLOSE_MINUTES, ge=0, le=120)

    def rule(self, session: Session, asset_class: AssetClass) -> SessionRule:
        return self.rules[session][asset_class]

    def session_of(self, asset_class: AssetClass, at: datetime) -> Session:
        """The session `asset_class` trades in at `at`; cached by the minute (every boundary
        falls on a whole minute), so the gate pays a dictionary lookup."""
        key = (asset_class, int(at.timestamp()) // 60, self.open_minutes, self.close_minutes)
        found = _SESSIONS.get(key)
        if found is None:
            if len(_SESSIONS) > 4096:
                _SESSIONS.clear()
            found = _SESSIONS[key] = classify(
                asset_class, at, self.open_minutes, self.close_minutes
            )
        return found


_SESSIONS: dict[tuple[AssetClass, int, int, int], Session] = {}


def classify(
    asset_class: AssetClass,
    at: datetime,
    open_minutes: int = DEFAULT_OPEN_MINUTES,
    close_minutes: int = DEFAULT_CLOSE_MINUTES,
) -> Session:
    """The session at `at` (an aware datetime). Boundaries belong to the later session: 09:30
    is the open, 16:00 after-hours, 17:00 Sunday the weekend edge."""
    if asset_class is AssetClass.CRYPTO:
        weekend = at.astimezone(UTC).weekday() >= 5
        return Session.CRYPTO_WEEKEND if weekend else Session.CRYPTO_WEEKDAY
    local = at.astimezone(NEW_YORK)
    if asset_class is AssetClass.FOREX:
        return _fx_session(local)
    session = _us_session(local, open_minutes, close_minutes)
    if asset_class is AssetClass.OPTIONS and session in _EXTENDED:
        return Session.US_CLOSED  # listed options trade in the regular session only
    return session


_EXTENDED = frozenset({Session.US_PRE_MARKET, Session.US_AFTER_HOURS})


def _us_session(local: datetime, open_minutes: int, close_minutes: int) -> Session:
    close = us_close_time(local.date())
    if close is None:
        return Session.US_CLOSED
    day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    naive = local.replace(tzinfo=None)
    opens = day.replace(hour=US_OPEN.hour, minute=US_OPEN.minute)
    closes = day.replace(hour=close.hour, minute=close.minute)
    if naive < day.replace(hour=US_PRE_MARKET_OPEN.hour):
        return Session.US_CLOSED
    if naive < opens:
        return Session.US_PRE_MARKET
    if naive < opens + timedelta(minutes=open_minutes):
        return Session.US_OPEN
    if naive < closes - timedelta(minutes=close_minutes):
        return Session.US_REGULAR
    if naive < closes:
        return Session.US_CLOSE
    if naive < closes + US_AFTER_HOURS_LENGTH:
        return Session.US_AFTER_HOURS
    return Session.US_CLOSED


def _fx_session(local: datetime) -> Session:
    """The FX week runs from Sunday 17:00 to Friday 17:00 New York time."""
    naive = local.replace(tzinfo=None)
    roll = naive.replace(hour=17, minute=0, second=0, microsecond=0)
    weekday = naive.weekday()  # Monday 0 ... Sunday 6
    if weekday == 5 or (weekday == 4 and naive >= roll) or (weekday == 6 and naive < roll):
        return Session.FX_CLOSED
    if roll - _FX_ROLL_HALF_WIDTH <= naive < roll + _FX_ROLL_HALF_WIDTH:
        if weekday == 4 or weekday == 6:  # the close itself, or the Sunday open
            return Session.FX_WEEKEND_EDGE
        return Session.FX_ROLLOVER
    if weekday == 4 and naive >= roll - _FX_EDGE:
        return Session.FX_WEEKEND_EDGE
    if weekday == 6 and naive < roll + _FX_EDGE:
        return Session.FX_WEEKEND_EDGE
    return Session.FX_REGULAR
