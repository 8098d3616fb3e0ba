"""The limit-order fallback in the core: a wide spread gets a passive limit at the mid that
works for its time to live, with the gate's other checks still applied; and the paper
venue's resting limit, filled only when the market reaches it, canceled at the end."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.config.engine_config import load_config
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import ConfigError
from smart_routing.domain.orders import AccountOwner, OrderIntent, OrderStatus, OrderType
from smart_routing.execution.engine import ExecutionEngine
from smart_routing.execution.result import ExecutionStatus
from smart_routing.gate.decision import CostCheck, GateAction
from smart_routing.gate.limit_fallback import WideSpreadAction, fallback_decision
from smart_routing.gate.policy import FailMode, RoutingPolicy
from smart_routing.gate.router import SmartRouter

OWNER = AccountOwner(tenant_id="local-tenant", uid="local-user")
# 100.00 / 100.25: a 0.25% spread, above the equity threshold; the mid 100.125 is off the tick.
WIDE = (100.00, 100.25)
MIDDAY = datetime(2025, 12, 30, 17, 0, tzinfo=UTC)  # noon in New York


def test_the_setting_defaults_to_wait_and_says_what_is_wrong():
    config = load_config({})
    assert (config.wide_spread_action, config.limit_ttl_s) == (WideSpreadAction.WAIT, 60)
    config = load_config({"EXEC_WIDE_SPREAD_ACTION": " Limit ", "EXEC_LIMIT_TTL_S": "15"})
    assert (config.wide_spread_action, config.limit_ttl_s) == (WideSpreadAction.LIMIT, 15)
    with pytest.raises(ConfigError, match=r"^EXEC_WIDE_SPREAD_ACTION='market' must be wait or"):
        load_config({"EXEC_WIDE_SPREAD_ACTION": "market"})
    for bad in ("0", "-5"):
        with pytest.raises(ConfigError, match=r"^EXEC_LIMIT_TTL_S=.* must be greater than 0"):
            load_config({"EXEC_LIMIT_TTL_S": bad})
    with pytest.raises(ConfigError, match="EXEC_LIMIT_TTL_S='soon' is not a number"):
        load_config({"EXEC_LIMIT_TTL_S": "soon"})


def make(clock, action=WideSpreadAction.LIMIT, cash=Decimal(100_000), fail_mode=FailMode.OPEN,
         quote=WIDE, size=None):  # fmt: skip
    clock.set(MIDDAY)  # the regular session: the equity threshold is the class's 0.10%
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", *quote, size=size)
    broker = PaperBroker(market, BuiltinInstruments(), clock, default_owner=OWNER,
                         starting_cash=cash)  # fmt: skip
    engine = ExecutionEngine(
        broker=broker, market_data=market, instruments=BuiltinInstruments(),
        ledger=InMemoryLedgerStore(), router=SmartRouter(RoutingPolicy(fail_mode=fail_mode)),
        clock=clock, wide_spread_action=action, limit_ttl_s=45,
    )  # fmt: skip
    return market, broker, engine


def intent(side="buy", qty=10, key="k1", **kwargs):
    return OrderIntent(symbol="AAPL", side=side, qty=qty, idempotency_key=key, **kwargs)


def test_by_default_a_wide_spread_waits_and_nothing_is_sent(clock):
    _, broker, engine = make(clock, action=WideSpreadAction.WAIT)
    result = engine.execute_intent(intent())
    assert result.status is ExecutionStatus.DOWNGRADED and result.order is None
    assert result.routing.fallback is None
    assert broker.accounts.working_orders() == []


def test_a_wide_spread_places_a_limit_at_the_mid_rounded_down_for_a_buy(clock):
    _, broker, engine = make(clock)
    result = engine.execute_intent(intent())
    assert result.status is ExecutionStatus.ACCEPTED
    routing = result.routing
    assert (routing.action, routing.cost_check, routing.fallback) == (
        GateAction.EXECUTE, CostCheck.EXCEEDED, "limit")  # fmt: skip
    assert routing.should_execute and routing.downgraded
    assert routing.reason.startswith("Spread 0.25% exceeds threshold 0.10% (default): ")
    assert "a limit order at the mid, 100.12, working for 45s" in routing.reason
    order = result.order
    assert (order.order_type, order.limit_price) == (OrderType.LIMIT, Decimal("100.12"))
    assert order.expires_at == clock.now() + timedelta(seconds=45)
    assert order.fallback == "limit" and order.status is OrderStatus.ACCEPTED
    assert order.filled_qty == 0 and result.trade is None
    assert "limit fallback at 100.12 until 17:00:45 UTC" in result.message
    assert broker.accounts.working_orders() == [(OWNER, order)]


def test_a_sell_rounds_the_mid_up(clock):
    market, _, engine = make(clock, quote=(100.00, 100.01))
    assert engine.execute_intent(intent(key="own")).status is ExecutionStatus.FILLED
    market.set_quote("AAPL", *WIDE)
    result = engine.execute_intent(intent(side="sell", key="sell"))
    assert result.status is ExecutionStatus.ACCEPTED
    assert result.order.limit_price == Decimal("100.13") and result.order.side.value == "sell"


def test_an_unusable_quote_never_falls_back(clock):
    market, broker, engine = make(clock, fail_mode=FailMode.CLOSED)
    market.remove_quote("AAPL")
    result = engine.execute_intent(intent())
    assert result.status is ExecutionStatus.DOWNGRADED
    assert result.routing.cost_check is CostCheck.UNAVAILABLE and result.routing.fallback is None
    assert broker.accounts.working_orders() == []


def test_a_limit_intent_the_spread_holds_back_still_waits(clock):
    _, broker, engine = make(clock)
    result = engine.execute_intent(
        intent(order_type=OrderType.LIMIT, limit_price=Decimal("100.10"))
    )
    assert result.status is ExecutionStatus.DOWNGRADED and result.routing.fallback is None
    assert broker.accounts.working_orders() == []


def test_buying_power_is_checked_at_the_limit_price(clock):
    # 10 at the limit 100.12 costs 1,001.20 (no fees on an equity buy); at the ask, 1,002.50.
    _, broker, engine = make(clock, cash=Decimal("1001.20"))
    result = engine.execute_intent(intent())
    assert result.status is ExecutionStatus.ACCEPTED
    assert result.routing.notional == Decimal("1001.20")

    _, broker, engine = make(clock, cash=Decimal("1001.19"))
    result = engine.execute_intent(intent())
    assert result.status is ExecutionStatus.REJECTED and result.order is None
    assert result.routing.fallback == "limit" and not result.routing.downgraded
    assert "the limit fallback at 100.12 cannot go: insufficient buying power" in result.message
    assert broker.accounts.working_orders() == []


def test_a_sell_of_what_is_not_held_is_still_refused(clock):
    _, broker, engine = make(clock)
    result = engine.execute_intent(intent(side="sell"))
    assert result.status is ExecutionStatus.REJECTED and result.order is None
    assert "insufficient position: selling 10 AAPL, holding 0" in result.message
    assert broker.accounts.working_orders() == []


def test_a_dry_run_shows_the_fallback_and_sends_nothing(clock):
    _, broker, engine = make(clock)
    result = engine.execute_intent(intent(), dry_run=True)
    assert result.status is ExecutionStatus.DRY_RUN and result.routing.fallback == "limit"
    assert result.routing.limit_price == Decimal("100.12")
    assert broker.accounts.working_orders() == []


def test_the_fallback_is_logged_with_the_decision(clock, log_records):
    _, _, engine = make(clock)
    engine.execute_intent(intent())
    decisions = [r for r in log_records() if r["event"] == "exec.smart_routing"]
    assert len(decisions) == 1
    assert (decisions[0]["fallback"], decisions[0]["action"]) == ("limit", "execute")


def test_the_paper_limit_rests_fills_up_to_the_touch_when_reached_and_cancels(clock):
    market, broker, engine = make(clock, size=4)
    order = engine.execute_intent(intent()).order  # a buy at 100.12
    assert broker.work_order(OWNER, order) is None  # the ask is still above the limit
    market.set_quote("AAPL", 100.05, 100.13, size=4)
    assert broker.work_order(OWNER, order) is None  # one tick above: still resting
    market.set_quote("AAPL", 100.05, 100.12, size=4)  # the ask reaches the limit
    fill = broker.work_order(OWNER, order)
    assert (fill.qty, fill.price) == (4, Decimal("100.12"))  # what the touch shows

    canceled = broker.cancel_order(order.client_order_id, AssetClass.EQUITY, OWNER)
    assert (canceled.status, canceled.filled_qty) == (OrderStatus.CANCELED, 4)
    assert broker.work_order(OWNER, canceled) is None  # nothing fills after the cancel
    again = broker.cancel_order(order.client_order_id, AssetClass.EQUITY, OWNER)
    assert again == canceled  # a second cancel changes nothing
    assert broker.get_account().positions["AAPL"].qty == 4
    assert broker.cancel_order("no-such-order", AssetClass.EQUITY, OWNER) is None


def test_a_filled_paper_order_is_not_canceled(clock):
    _, broker, engine = make(clock, quote=(100.00, 100.01))
    filled = engine.execute_intent(intent()).order
    assert filled.status is OrderStatus.FILLED
    assert broker.cancel_order(filled.client_order_id, AssetClass.EQUITY, OWNER) == filled


def test_the_fallback_builds_a_new_decision_and_leaves_the_gates_untouched(clock):
    """Decisions are values: the fallback's is a new one; neither it nor its cost model can
    be changed once made."""
    market, broker, engine = make(clock)
    spec = engine.instruments.get_instrument("AAPL", AssetClass.EQUITY)
    quote, account = market.get_quote("AAPL", AssetClass.EQUITY), broker.get_account(
        AssetClass.EQUITY, OWNER)  # fmt: skip
    router = engine.router
    held = router.decide(intent(), spec, quote, MIDDAY, account)
    limit = intent(order_type=OrderType.LIMIT, limit_price=Decimal("100.12"))
    checked = router.decide(limit, spec, quote, MIDDAY, account)
    held_before, checked_before = held.model_dump(), checked.model_dump()

    fallback = fallback_decision(held, checked, 45)

    assert held.action is GateAction.WAIT and fallback.fallback == "limit"
    assert fallback is not checked and fallback.cost_model is held.cost_model
    assert (held.model_dump(), checked.model_dump()) == (held_before, checked_before)
    with pytest.raises(FrozenInstanceError):
        fallback.reason = "changed"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        held.cost_model.verdict = "execute"  # type: ignore[union-attr, misc]
