"""Which trading day a fill belongs to, by the conventions of its market."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from smart_routing.assets import AssetClass

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
