"""What the gate needs fetched before it decides, on one venue's ports: the quote, the account
and the conversion rate. A failure to fetch is an answer the gate judges, never a crash."""

from __future__ import annotations

from datetime import datetime

from smart_routing import logs
from smart_routing.domain.instruments import InstrumentSpec
from smart_routing.domain.orders import AccountOwner, AccountSnapshot
from smart_routing.domain.trading_state import ACTIVE, TradingState, TradingStatus
from smart_routing.market.conversion import Conversion, conversion_from_quote, conversion_pair
from smart_routing.market.quotes import Quote, quote_problem
from smart_routing.ports import Broker, MarketDataProvider, TradingStates


def fetch_quote(
    market_data: MarketDataProvider, symbol: str, spec: InstrumentSpec
) -> tuple[Quote | None, str | None]:
    """The quote, or None and why: a provider failure is an unavailable quote, never a crash."""
    try:
        return market_data.get_quote(symbol, spec.asset_class), None
    except Exception as exc:  # any provider failure: the fail mode decides, not the error
        return None, market_data_error(exc)


def market_data_error(exc: Exception) -> str:
    """Why there is no quote (or account), when the provider failed; secrets redacted."""
    return f"{type(exc).__name__}: {logs.redact(str(exc))}"


def read_account(
    broker: Broker, spec: InstrumentSpec, owner: AccountOwner
) -> AccountSnapshot | None:
    """The account, or None when it cannot be read: the gate refuses what it cannot check."""
    try:
        return broker.get_account(spec.asset_class, owner)
    except Exception as exc:  # the gate refuses to send what it cannot check
        logs.log_event(logs.ACCOUNT_UNAVAILABLE, severity="ERROR", error=market_data_error(exc))
        return None


def conversion_for(
    market_data: MarketDataProvider,
    spec: InstrumentSpec,
    account: AccountSnapshot | None,
    now: datetime,
    max_quote_age_s: float,
) -> Conversion | None:
    """The rate from the instrument's currency to the account's, from a usable quote of the
    pair; None when none is needed or none can be had (the gate then says so)."""
    if account is None or spec.quote_currency == account.currency:
        return None
    symbol, asset_class, inverse = conversion_pair(spec.quote_currency, account.currency)
    try:
        quote = market_data.get_quote(symbol, asset_class)
    except Exception:  # no rate: the gate says so
        return None
    if quote is None or quote_problem(quote, now, max_quote_age_s) is not None:
        return None
    return conversion_from_quote(quote, inverse)


def trading_status(states: TradingStates | None, owner: AccountOwner) -> TradingStatus:
    """The state the owner's orders trade under; one that cannot be read halts the order (a
    kill switch never fails open)."""
    if states is None:
        return ACTIVE
    try:
        return states.status_of(owner)
    except Exception as exc:
        error = market_data_error(exc)
        logs.log_event(logs.LogEvent.TRADING_STATE_UNAVAILABLE, severity="ERROR", error=error)
        return TradingStatus(TradingState.HALTED, reason=f"its state could not be read: {error}")
