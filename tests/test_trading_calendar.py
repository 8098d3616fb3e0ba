from datetime import UTC, date, datetime

import pytest

from smart_routing.domain.assets import AssetClass
from smart_routing.market.trading_calendar import trading_date


@pytest.mark.parametrize(
    ("asset_class", "at", "expected"),
    [
        (AssetClass.EQUITY, datetime(2025, 12, 30, 21, 0, tzinfo=UTC), date(2025, 12, 30)),
        (AssetClass.EQUITY, datetime(2025, 12, 31, 2, 0, tzinfo=UTC), date(2025, 12, 30)),
        (AssetClass.OPTIONS, datetime(2025, 7, 1, 3, 59, tzinfo=UTC), date(2025, 6, 30)),
        (AssetClass.CRYPTO, datetime(2025, 12, 31, 2, 0, tzinfo=UTC), date(2025, 12, 31)),
        (AssetClass.FOREX, datetime(2025, 12, 30, 21, 59, tzinfo=UTC), date(2025, 12, 30)),
        (AssetClass.FOREX, datetime(2025, 12, 30, 22, 0, tzinfo=UTC), date(2025, 12, 31)),
    ],
)
def test_trading_date_follows_each_markets_convention(asset_class, at, expected):
    assert trading_date(asset_class, at) == expected
