"""One Broker that sends each asset class to its venue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.money import ZERO
from smart_routing.domain.orders import AccountOwner, AccountSnapshot, Order, OrderRequest, Position
from smart_routing.ports import Broker


class VenueRouter:
    name = "router"

    def __init__(self, brokers: dict[AssetClass, Broker], others: Sequence[Broker] = ()) -> None:
        """`others`: venues an order may also go to (a class's lowest-cost candidates), looked
        up for orders and summed into the whole account."""
        self.brokers = brokers
        self.others = tuple(others)

    def venue_for(self, asset_class: AssetClass) -> str:
        return self.brokers[asset_class].name

    def submit_order(self, request: OrderRequest) -> Order:
        return self.brokers[request.asset_class].submit_order(request)

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        for broker in self._distinct():
            found = broker.get_order_by_client_id(client_order_id)
            if found is not None:
                return found
        return None

    def broker_named(self, venue: str) -> Broker | None:
        """The venue's own broker: where an order the book says that venue holds is asked
        about, without asking the others."""
        return next((broker for broker in self._distinct() if broker.name == venue), None)

    def cancel_order(
        self, client_order_id: str, asset_class: AssetClass, owner: AccountOwner | None = None
    ) -> Order | None:
        broker = self.brokers[asset_class]
        if self.others:  # the order may be at another of the class's candidate venues
            broker = self._holder(client_order_id) or broker
        return broker.cancel_order(client_order_id, asset_class, owner)

    def _holder(self, client_order_id: str) -> Broker | None:
        for broker in self._distinct():
            if broker.get_order_by_client_id(client_order_id) is not None:
                return broker
        return None

    def get_account(
        self, asset_class: AssetClass | None = None, owner: AccountOwner | None = None
    ) -> AccountSnapshot:
        """The account of the venue that trades `asset_class`: its money is what can pay for
        the order. With none, cash and buying power summed over the venues and positions
        from all of them.

        Amounts in different currencies cannot be summed: accounts in more than one currency
        raise ValueError (the gate then sends nothing), never a wrong total.
        """
        if asset_class is not None:
            return self.brokers[asset_class].get_account(asset_class, owner)
        snapshots = [broker.get_account(None, owner) for broker in self._distinct()]
        currencies = sorted({s.currency for s in snapshots})
        if len(currencies) != 1:
            raise ValueError(
                f"venue accounts are in {', '.join(currencies)}: no single buying power"
            )
        positions: dict[str, Position] = {}
        for snapshot in snapshots:
            positions.update(snapshot.positions)
        return AccountSnapshot(
            currency=currencies[0],
            cash=sum((s.cash for s in snapshots), ZERO),
            buying_power=sum((s.buying_power for s in snapshots), ZERO),
            positions=positions,
            as_of=datetime.now(UTC),
        )

    def _distinct(self) -> list[Broker]:
        seen: dict[int, Broker] = {}
        for broker in (*self.brokers.values(), *self.others):
            seen.setdefault(id(broker), broker)
        return list(seen.values())
