"""Each user's own brokerage account at a venue (Alpaca's Broker API), linked by a tenant admin.

`tenants/{t}/venue_accounts/{uid}`: `uid`, `tenant_id`, `venue`, `account_id`, `linked_by`,
`linked_at`. `venue_account_owners/{venue}-{account_id}`: `tenant_id`, `uid`, `venue`,
`account_id`, created with a precondition in the same transaction, so an account has one owner.
"""

from __future__ import annotations

from typing import Any

from google.cloud import firestore
from google.cloud.firestore import Client, Transaction
from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing.domain.orders import AccountOwner
from smart_routing_firebase.stores import paths


class LinkRefused(ValueError):
    """The link is refused; the message says why. Nothing was written."""


def link_account(
    db: Client, tenant_id: str, uid: str, venue: str, account_id: str, by: str
) -> dict[str, Any]:
    """Link (tenant, uid) to the venue account, both documents in one transaction. Linking
    the same account again changes nothing (`changed` False)."""
    mine = db.document(paths.venue_account(tenant_id, uid))
    owner = db.document(paths.venue_account_owner(venue, account_id))

    @firestore.transactional
    def run(transaction: Transaction) -> dict[str, Any]:
        current = mine.get(transaction=transaction).to_dict()
        held = owner.get(transaction=transaction).to_dict()
        if held is not None and (held["tenant_id"], held["uid"]) != (tenant_id, uid):
            raise LinkRefused(
                f"account_id: {venue} account {account_id} is already linked to another user"
            )
        if current is not None and current["account_id"] != account_id:
            raise LinkRefused(
                f"uid: {uid} is already linked to {current['venue']} account "
                f"{current['account_id']}"
            )
        entry = {"uid": uid, "tenant_id": tenant_id, "venue": venue, "account_id": account_id}
        if current is not None:
            return {**entry, "changed": False}
        transaction.create(owner, entry)
        transaction.create(
            mine, {**entry, "linked_by": by, "linked_at": firestore.SERVER_TIMESTAMP}
        )
        return {**entry, "changed": True}

    return run(db.transaction())


def unlinked_refusal(venues: Any, runner: Any, run_request: Any) -> str | None:
    """Why the order cannot go to a per-user venue account (the user has none linked), or
    None. `venues`: venues.wiring.Venues; only its per-user broker is asked."""
    broker = venues.alpaca_per_user
    asset_class = run_request.asset_class
    if broker is None or asset_class is None:
        return None
    if broker.name not in runner.engine.venues_for(asset_class):
        return None
    owner = AccountOwner(tenant_id=run_request.tenant_id, uid=run_request.uid)
    if broker.links.account_of(owner) is not None:
        return None
    return (
        f"user {owner.uid} has no Alpaca account linked: this deployment trades each user's "
        "own brokerage account, which a tenant admin links with link_venue_account"
    )


class FirestoreLinkedAccounts:
    """venues.alpaca.broker_api.LinkedAccounts over the links above."""

    def __init__(self, db: Client, venue: str = "alpaca") -> None:
        self.db, self.venue = db, venue

    def account_of(self, owner: AccountOwner) -> str | None:
        data = self.db.document(paths.venue_account(owner.tenant_id, owner.uid)).get().to_dict()
        if data is None or data.get("venue") != self.venue:
            return None
        return str(data["account_id"])

    def account_of_order(self, client_order_id: str) -> str | None:
        query = (
            self.db.collection_group("orders")
            .where(filter=FieldFilter("client_order_id", "==", client_order_id))
            .limit(1)
        )
        for snapshot in query.stream():
            order = snapshot.to_dict() or {}
            if order.get("tenant_id") and order.get("uid"):
                return self.account_of(AccountOwner(tenant_id=order["tenant_id"], uid=order["uid"]))
        return None
