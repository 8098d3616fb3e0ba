"""A user's own position at a real venue: what each trade does to it, and the reservations that
keep concurrent sells within it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import OrderRejected
from smart_routing.portfolio.ledger import LedgerTrade
from smart_routing.portfolio.positions import HeldPosition, apply_trade, release, reserve


def trade(side: str, qty: str, price: str, coid: str = "o-1", symbol: str = "AAPL",
          asset_class: AssetClass = AssetClass.EQUITY) -> LedgerTrade:  # fmt: skip
    return LedgerTrade(
        trade_id=coid, tenant_id="t", uid="u", symbol=symbol, asset_class=asset_class,
        side=side, qty=Decimal(qty), price=Decimal(price), notional=Decimal(0),
        fees=Decimal(0), currency="USD", estimated_slippage=None, strategy_id="manual",
        timestamp=datetime(2025, 1, 6, 15, tzinfo=UTC), trading_date=date(2025, 1, 6),
        broker="alpaca", broker_order_id="b", client_order_id=coid,
    )  # fmt: skip


def test_buys_average_and_a_sell_realizes_against_the_average_cost():
    held = apply_trade(None, trade("buy", "2", "100"))
    held = apply_trade(held, trade("buy", "2", "110"))
    assert (held.qty, held.avg_cost, held.cost_basis) == (4, Decimal(105), Decimal(420))
    held = apply_trade(held, trade("sell", "3", "120"))
    assert (held.qty, held.avg_cost, held.realized_pnl) == (1, Decimal(105), Decimal(45))
    closed = apply_trade(held, trade("sell", "1", "100"))
    assert (closed.qty, closed.avg_cost, closed.cost_basis) == (0, 0, 0)
    assert closed.realized_pnl == Decimal(40)


def test_a_sell_through_zero_opens_a_short_at_the_trade_price():
    held = apply_trade(apply_trade(None, trade("buy", "1", "10")), trade("sell", "3", "12"))
    assert (held.qty, held.avg_cost, held.realized_pnl) == (-2, Decimal(12), Decimal(2))


def test_options_realize_with_the_contract_multiplier():
    symbol = "AAPL250117C00150000"
    held = apply_trade(None, trade("buy", "1", "2.50", symbol=symbol,
                                   asset_class=AssetClass.OPTIONS))  # fmt: skip
    assert held.cost_basis == Decimal(250)
    held = apply_trade(held, trade("sell", "1", "3.00", symbol=symbol,
                                   asset_class=AssetClass.OPTIONS))  # fmt: skip
    assert held.realized_pnl == Decimal(50)


def test_a_reservation_holds_units_and_names_only_the_users_figures():
    held = HeldPosition(symbol="AAPL", asset_class=AssetClass.EQUITY, currency="USD",
                        qty=Decimal(1), avg_cost=Decimal(100))  # fmt: skip
    held = held.model_copy(update={"reservations": reserve(held, "AAPL", "o-1", Decimal(1))})
    assert held.available == 0 and reserve(held, "AAPL", "o-1", Decimal(1)) == {"o-1": 1}
    with pytest.raises(OrderRejected, match="holding 1 of which 1 reserved"):
        reserve(held, "AAPL", "o-2", Decimal(1))
    with pytest.raises(OrderRejected, match=r"selling 1 AAPL, holding 0$"):
        reserve(None, "AAPL", "o-3", Decimal(1))


def test_fills_use_up_their_reservation_and_an_ended_order_releases_the_rest():
    held = HeldPosition(symbol="AAPL", asset_class=AssetClass.EQUITY, currency="USD",
                        qty=Decimal(5), avg_cost=Decimal(100),
                        reservations={"o-1": Decimal(4), "o-2": Decimal(1)})  # fmt: skip
    held = apply_trade(held, trade("sell", "3", "100", coid="o-1"))
    assert held.reservations == {"o-1": 1, "o-2": 1} and held.available == 0
    assert release(held.reservations, "o-1") == {"o-2": 1}
    assert release(held.reservations, "o-1", keep=Decimal(5)) == {"o-1": 1, "o-2": 1}
    held = apply_trade(held, trade("sell", "1", "100", coid="o-2"))
    assert held.reservations == {"o-1": 1}
