"""Which trading day a fill belongs to, by the conventions of its market."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from smart_routing.domain.assets import AssetClass

NEW_YORK = ZoneInfo("America/New_York")
# The FX trading day rolls at 17:00 New York time.
_FX_ROLLOVER = timedelta(hours=7)


def trading_date(asset_class: AssetClass, at: datetime) -> date:
    """US equities and options: New York date. FX: New York date rolled at 17:00. Crypto: UTC."""
    if asset_class is AssetClass.CRYPTO:
        return at.astimezone(ZoneInfo("UTC")).date()
    local = at.astimezone(NEW_YORK)
    if asset_class is AssetClass.FOREX:
        return (local + _FX_ROLLOVER).date()
    return local.date()


# US equity and option hours, New York time (NYSE/Nasdaq; Cboe options keep the core hours).
US_PRE_MARKET_OPEN = time(4, 0)
US_OPEN = time(9, 30)
US_CLOSE = time(16, 0)
US_EARLY_CLOSE = time(13, 0)
# Extended hours end four hours after the close: 20:00, or 17:00 after an early close.
US_AFTER_HOURS_LENGTH = timedelta(hours=4)


def us_close_time(day: date) -> time | None:
    """When US equities close on `day` (New York time): 16:00, 13:00 on the half days, None
    on a weekend or an exchange holiday.

    NYSE's rules (rule 7.2): New Year's Day, Martin Luther King Jr. Day, Washington's
    Birthday, Good Friday, Memorial Day, Juneteenth (from 2022), Independence Day, Labor Day,
    Thanksgiving and Christmas; a holiday on a Saturday is observed the Friday before (except
    New Year's Day, not observed then), on a Sunday the Monday after. Half days: the day
    after Thanksgiving, and July 3 and December 24 when they are ordinary weekdays. Closings
    the exchange announces ad hoc (a national day of mourning) are not known here: that day
    reads as a regular session and the venue refuses or queues the order.
    """
    if day.weekday() >= 5 or day in _us_holidays(day.year):
        return None
    if day in _us_half_days(day.year):
        return US_EARLY_CLOSE
    return US_CLOSE


@lru_cache(maxsize=64)
def _us_holidays(year: int) -> frozenset[date]:
    fixed = [date(year, 7, 4), date(year, 12, 25)]
    if year >= 2022:
        fixed.append(date(year, 6, 19))
    observed = {_observed(day) for day in fixed}
    new_year = date(year, 1, 1)
    if new_year.weekday() != 5:  # on a Saturday it is not observed on Friday December 31
        observed.add(_observed(new_year))
    observed |= {
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - timedelta(days=2),  # Good Friday
        _last_weekday(year, 5, 0),  # Memorial Day
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
    }
    return frozenset(observed)


@lru_cache(maxsize=64)
def _us_half_days(year: int) -> frozenset[date]:
    holidays = _us_holidays(year)
    candidates = [date(year, 7, 3), date(year, 12, 24)]
    half = {d for d in candidates if d.weekday() < 5 and d not in holidays}
    half.add(_nth_weekday(year, 11, 3, 4) + timedelta(days=1))
    return frozenset(half)


def _observed(day: date) -> date:
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _easter(year: int) -> date:
    """Western Easter Sunday (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)
