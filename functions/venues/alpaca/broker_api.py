"""Orders on Alpaca's Broker API: each end user trades in their own brokerage account, under
the platform's broker keys (alpaca-py's BrokerClient: submit_order_for_account and the other
per-account calls).

Which account is a user's is the tenant admin's link (`LinkedAccounts`, kept in Firestore by
the functions). Before an order is sent the account is read: one that is not ACTIVE, or a
crypto order from an account without the crypto agreement, is refused with the reason and
nothing is sent. Errors follow the Trading API adapter's rule: an unclear outcome raises
OrderOutcomeUnknown, and the engine looks the order up by client_order_id.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import requests
from alpaca.broker.client import BrokerClient
from alpaca.broker.models import Account
from alpaca.broker.requests import LimitOrderRequest, MarketOrderRequest
from alpaca.common.exceptions import APIError

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import OrderOutcomeUnknown, OrderRejected, VenueUnavailable
from smart_routing.domain.money import to_decimal
from smart_routing.domain.orders import (
    AccountOwner,
    AccountSnapshot,
    Order,
    OrderRequest,
    Position,
)
from venues.alpaca.broker import (
    SUBMIT_ATTEMPTS,
    _order,
    _position,
    alpaca_order_request,
    order_after_refusal,
)
from venues.alpaca.client import MAX_RATE_LIMIT_WAIT_S, model, prepare
from venues.http import MAYBE_SENT, describe, retry_after_s
from venues.settings import AlpacaBrokerSettings

ACTIVE = "ACTIVE"
CRYPTO_AGREEMENT = "crypto_agreement"


class AccountNotLinked(Exception):
    """The user has no brokerage account linked on a broker deployment."""


class LinkedAccounts(Protocol):
    """Which brokerage account is whose (the tenant admin's links)."""

    def account_of(self, owner: AccountOwner) -> str | None: ...

    def account_of_order(self, client_order_id: str) -> str | None:
        """The account of the user who placed the order (None: no such order or link)."""
        ...


def broker_client(settings: AlpacaBrokerSettings, timeout_s: float) -> BrokerClient:
    client = BrokerClient(
        settings.api_key, settings.secret_key, sandbox=not settings.live, url_override=settings.url
    )
    prepare(client, timeout_s)
    return client


def not_linked_message(owner: AccountOwner) -> str:
    return (
        f"user {owner.uid} has no Alpaca account linked: this deployment trades each user's own "
        "brokerage account, which a tenant admin links with link_venue_account"
    )


class AlpacaBrokerApi:
    """The Broker port over the Broker API, one account per (tenant, user)."""

    name = "alpaca"

    def __init__(
        self,
        settings: AlpacaBrokerSettings,
        timeout_s: float,
        links: LinkedAccounts,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = broker_client(settings, timeout_s)
        self.links = links
        self.sleep = sleep

    def venue_for(self, asset_class: AssetClass) -> str:
        return self.name

    def submit_order(self, request: OrderRequest) -> Order:
        account_id = self._account_id(request.owner)
        self._check_can_trade(account_id, request.asset_class)
        order_request = alpaca_order_request(request, MarketOrderRequest, LimitOrderRequest)
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            try:
                # alpaca.broker.requests' order classes, though not typed as its OrderRequest.
                placed = self.client.submit_order_for_account(
                    account_id,
                    order_request,  # type: ignore[arg-type]
                )
                return _order(model(placed), request)
            except APIError as exc:
                if exc.status_code == 429 and attempt < SUBMIT_ATTEMPTS:
                    self.sleep(min(retry_after_s(exc.response), MAX_RATE_LIMIT_WAIT_S))
                    continue
                return self._refused(account_id, request, exc)
            except requests.ConnectTimeout as exc:
                raise VenueUnavailable(f"alpaca unreachable: {describe(exc)}") from exc
            except (*MAYBE_SENT, requests.ConnectionError) as exc:
                raise OrderOutcomeUnknown(f"alpaca: {describe(exc)}") from exc
        raise AssertionError("unreachable")

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        account_id = self.links.account_of_order(client_order_id)
        if account_id is None:
            return None
        return self._order_in(account_id, client_order_id)

    def cancel_order(
        self, client_order_id: str, asset_class: AssetClass, owner: AccountOwner | None = None
    ) -> Order | None:
        account_id = (
            self.links.account_of(owner) if owner else self.links.account_of_order(client_order_id)
        )
        if account_id is None:
            return None
        found = self._order_in(account_id, client_order_id)
        if found is None or not found.is_working:
            return found
        try:
            self.client.cancel_order_for_account_by_id(account_id, found.broker_order_id)
        except APIError as exc:
            if exc.status_code not in (404, 422):
                raise
        return self._order_in(account_id, client_order_id)

    def get_account(
        self, asset_class: AssetClass | None = None, owner: AccountOwner | None = None
    ) -> AccountSnapshot:
        """The owner's own brokerage account: its money and its positions."""
        account_id = self._account_id(owner)
        account = model(self.client.get_trade_account_by_id(account_id))
        positions = [
            _position(p) for p in model(self.client.get_all_positions_for_account(account_id))
        ]
        return AccountSnapshot(
            currency=str(account.currency or "USD"),
            cash=to_decimal(account.cash or 0, "cash"),
            buying_power=to_decimal(account.buying_power or 0, "buying power"),
            positions={p.symbol: p for p in positions},
            as_of=datetime.now(UTC),
        )

    def positions_of(self, account_id: str) -> dict[str, Position]:
        """The account's positions at the venue, by the engine's symbol (for per-user drift)."""
        raw = model(self.client.get_all_positions_for_account(account_id))
        return {p.symbol: p for p in (_position(r) for r in raw)}

    def _account_id(self, owner: AccountOwner | None) -> str:
        if owner is None:
            raise AccountNotLinked("a Broker API order or account read names no user")
        account_id = self.links.account_of(owner)
        if account_id is None:
            raise AccountNotLinked(not_linked_message(owner))
        return account_id

    def brokerage_account(self, account_id: str) -> Account | None:
        """The account as Alpaca has it (alpaca-py's broker Account), or None when Alpaca has
        none by that id (alpaca-py documents a 401 for that, the API reference a 404).
        VenueUnavailable when Alpaca cannot be asked."""
        try:
            return model(self.client.get_account_by_id(account_id))
        except APIError as exc:
            if exc.status_code in (401, 404):
                return None
            raise VenueUnavailable(f"alpaca account {account_id}: {describe(exc)}") from exc
        except (requests.RequestException, ValueError) as exc:
            raise VenueUnavailable(f"alpaca account {account_id}: {describe(exc)}") from exc

    def _check_can_trade(self, account_id: str, asset_class: AssetClass) -> None:
        """Refuse, before anything is sent, what the account cannot trade now."""
        account = self.brokerage_account(account_id)
        if account is None:
            raise OrderRejected(f"alpaca account {account_id} was not found")
        refusal = trading_refusal(account, asset_class)
        if refusal is not None:
            raise OrderRejected(refusal)

    def _order_in(self, account_id: str, client_order_id: str) -> Order | None:
        try:
            found = self.client.get_order_for_account_by_client_id(account_id, client_order_id)
        except APIError as exc:
            if exc.status_code == 404:
                return None
            raise
        return _order(model(found))

    def _refused(self, account_id: str, request: OrderRequest, exc: APIError) -> Order:
        return order_after_refusal(
            request, exc, lambda: self._order_in(account_id, request.client_order_id)
        )


def trading_refusal(account: Any, asset_class: AssetClass) -> str | None:
    """Why the brokerage account may not place this order now, or None."""
    status = _text(account.status)
    if status != ACTIVE:
        return f"alpaca account {account.id} is {status}, not ACTIVE: no order is sent"
    if asset_class is AssetClass.CRYPTO and not has_crypto_agreement(account):
        return (
            f"alpaca account {account.id} has not signed the crypto agreement "
            f"(crypto_status {_text(account.crypto_status) or 'none'}): crypto orders are refused"
        )
    return None


def has_crypto_agreement(account: Any) -> bool:
    signed = {_text(a.agreement) for a in account.agreements or []}
    return _text(account.crypto_status) == ACTIVE and CRYPTO_AGREEMENT in signed


def _text(value: Any) -> str:
    return str(getattr(value, "value", value) or "")
