"""The gate's last checks, on the account: no short the account may not hold, the per-class
notional cap, and buying power in the account's currency (via the conversion rate when the
instrument is quoted in another)."""

from __future__ import annotations

from decimal import Decimal

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.money import ZERO, format_money, format_qty, round_money
from smart_routing.domain.orders import AccountSnapshot, OrderSide
from smart_routing.domain.trading_state import TradingState
from smart_routing.gate.decision import GateAction, SmartRoutingDecision
from smart_routing.gate.draft import Draft
from smart_routing.market.conversion import Conversion


def account_check(
    draft: Draft, account: AccountSnapshot | None, conversion: Conversion | None
) -> SmartRoutingDecision:
    if account is None:
        return draft.decision(GateAction.REJECT, "the account could not be read; nothing sent")
    draft.fields["account_currency"] = account.currency
    if draft.trading.state is TradingState.REDUCING and not _shrinks_position(draft, account):
        held = format_qty(account.position_qty(draft.spec.symbol))
        return draft.refused_by_trading_state(
            f"only orders that shrink an existing position (holding {held} {draft.spec.symbol})"
        )
    problem = _position_problem(draft, account)
    reason = draft.cost_note or "all checks passed"
    if problem is None and _needs_money(draft, account):
        if draft.notional is None:
            return _unpriced(draft)
        problem = _money_problem(draft, account, conversion)
    if problem is not None:
        return draft.decision(GateAction.REJECT, problem)
    return draft.decision(GateAction.EXECUTE, reason)


def _shrinks_position(draft: Draft, account: AccountSnapshot) -> bool:
    """A buy that covers at most the short held, or a sell of at most the long held."""
    held = account.position_qty(draft.spec.symbol)
    if draft.intent.side is OrderSide.BUY:
        return held < 0 and draft.qty <= -held
    return held > 0 and draft.qty <= held


def _unpriced(draft: Draft) -> SmartRoutingDecision:
    """No price at all (no usable quote, no reference quote recent enough, no limit): the size,
    the notional cap and buying power cannot be checked, so nothing is sent, in either fail
    mode (the fail mode decides the cost check alone)."""
    bound = draft.rules.policy.reference_price_max_age_s
    return draft.decision(
        GateAction.REJECT,
        f"Quote unavailable ({draft.cost_problem}): no price was available to check the size "
        f"and buying power (no quote with prices in the last {bound:g}s, no limit price); "
        "nothing sent",
    )


def _needs_money(draft: Draft, account: AccountSnapshot) -> bool:
    """A sale of what is held, or a forex order that only closes, frees money: it needs no
    price, no conversion and no buying power."""
    if draft.spec.asset_class is AssetClass.FOREX:
        return _opening_share(draft, account) > 0
    return draft.intent.side is OrderSide.BUY or draft.spec.shortable


def _position_problem(draft: Draft, account: AccountSnapshot) -> str | None:
    spec = draft.spec
    if draft.intent.side is OrderSide.BUY or spec.shortable:
        return None
    held = account.position_qty(spec.symbol)
    if draft.qty <= held:
        return None
    kind = "crypto is never shorted" if spec.asset_class is AssetClass.CRYPTO else (
        "this account may not short " + spec.asset_class.value.lower()
    )  # fmt: skip
    return (
        f"insufficient position: selling {format_qty(draft.qty)} {spec.symbol}, holding "
        f"{format_qty(held)} ({kind})"
    )


def _money_problem(
    draft: Draft, account: AccountSnapshot, conversion: Conversion | None
) -> str | None:
    notional = draft.notional
    assert notional is not None  # account_check sends unpriced orders elsewhere
    currency = draft.spec.quote_currency
    rate: Decimal | None = None  # None: the order is in the account's own currency
    in_account = notional
    if currency != account.currency:
        if conversion is None:
            return (
                f"no conversion quote from {currency} to {account.currency}: the "
                f"{format_money(notional, currency)} order cannot be checked "
                "against buying power"
            )
        draft.fields["conversion"] = conversion
        rate = conversion.rate
        in_account = round_money(notional * rate, account.currency)
    draft.fields["notional_in_account_currency"] = in_account
    asset_class = draft.spec.asset_class
    cap = draft.rules.policy.max_order_notional[asset_class]
    if in_account > cap:
        return (
            f"order notional {format_money(in_account, account.currency)} is above the "
            f"{asset_class.value.lower()} maximum of {format_money(cap, account.currency)} "
            f"per order (EXEC_MAX_ORDER_NOTIONAL_{asset_class.value})"
        )
    needed = _buying_power_needed(draft, account, in_account, rate)
    if needed > account.buying_power:
        return (
            f"insufficient buying power: the order needs "
            f"{format_money(needed, account.currency)}, buying power is "
            f"{format_money(account.buying_power, account.currency)}"
        )
    return None


def _buying_power_needed(
    draft: Draft, account: AccountSnapshot, in_account: Decimal, rate: Decimal | None
) -> Decimal:
    if draft.spec.asset_class is AssetClass.FOREX:
        opening = _opening_share(draft, account)
        margin = in_account * opening * draft.rules.policy.forex_margin_rate
        return round_money(margin, account.currency)
    if draft.intent.side is OrderSide.SELL:
        return ZERO  # selling what is held frees money
    fees = draft.fees or ZERO
    if rate is None:  # both already on the account currency's grid
        return in_account + fees
    return round_money(in_account + fees * rate, account.currency)


def _opening_share(draft: Draft, account: AccountSnapshot) -> Decimal:
    """The share of the order that adds exposure: closing a position needs no margin."""
    held = account.position_qty(draft.spec.symbol)
    opposite = held < 0 if draft.intent.side is OrderSide.BUY else held > 0
    closing = min(draft.qty, abs(held)) if opposite else ZERO
    return (draft.qty - closing) / draft.qty
