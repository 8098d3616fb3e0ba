"""The paper venue's accounts in this process's memory: the local runtime's store."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

from smart_routing.domain.orders import AccountOwner, Order
from smart_routing.portfolio.paper_account import DEFAULT_STARTING_CASH, PaperAccount


class InMemoryPaperAccounts:
    def __init__(self, starting_cash: Decimal = DEFAULT_STARTING_CASH) -> None:
        self.starting_cash = starting_cash
        self._accounts: dict[AccountOwner, PaperAccount] = {}
        self._orders: dict[str, Order] = {}
        self._owners: dict[str, AccountOwner] = {}
        self._lock = threading.Lock()

    def account(self, owner: AccountOwner) -> PaperAccount:
        with self._lock:
            return self._account(owner)

    def transact(
        self,
        owner: AccountOwner,
        client_order_id: str,
        apply: Callable[[PaperAccount], tuple[PaperAccount | None, Order]],
    ) -> Order:
        with self._lock:
            existing = self._orders.get(client_order_id)
            if existing is not None:
                return existing
            account, order = apply(self._account(owner))
            if account is not None:
                self._accounts[owner] = account
            self._orders[client_order_id] = order
            self._owners[client_order_id] = owner
            return order

    def advance(
        self,
        owner: AccountOwner,
        client_order_id: str,
        apply: Callable[[PaperAccount, Order], tuple[PaperAccount, Order] | None],
    ) -> Order | None:
        with self._lock:
            stored = self._orders.get(client_order_id)
            if stored is None:
                return None
            changed = apply(self._account(owner), stored)
            if changed is not None:
                self._accounts[owner], self._orders[client_order_id] = changed
            return self._orders[client_order_id]

    def working_orders(self) -> list[tuple[AccountOwner, Order]]:
        """Every order that may still fill, with its owner, oldest first."""
        with self._lock:
            return [
                (self._owners[coid], order)
                for coid, order in self._orders.items()
                if order.is_working
            ]

    def order(self, client_order_id: str) -> Order | None:
        return self._orders.get(client_order_id)

    def _account(self, owner: AccountOwner) -> PaperAccount:
        account = self._accounts.get(owner)
        if account is None:
            account = self._accounts[owner] = PaperAccount.opened(self.starting_cash)
        return account
