"""Each user's own brokerage account at a venue (Alpaca's Broker API), linked by a tenant admin.

`tenants/{t}/venue_accounts/{uid}`: `uid`, `tenant_id`, `venue`, `account_id`, `linked_by`,
`linked_at`. `venue_account_owners/{venue}-{account_id}`: `tenant_id`, `uid`, `venue`,
`account_id`, created with a precondition in the same transaction, so an account has one owner.
Linking and unlinking each append an entry to the tenant's audit log in that transaction.

An unlink takes two steps, so that no order can be sent on a link it ends while it counts the
user's orders: the link is first marked `unlinking_since` (from then on no order is sent on it,
while orders placed on it are still found there), then, in one transaction, the user's orders
at the venue that can still fill are counted (an order creates its document before it reads
the link to send, so every order sent on the link is counted) and, when there are none, the
link and its reverse index are deleted. Otherwise the mark is taken off and nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.cloud import firestore
from google.cloud.firestore import Client, DocumentReference, Transaction
from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing.domain.orders import AccountOwner
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.orders import CAN_STILL_FILL

UNLINKING = "unlinking_since"  # on a link while an unlink counts the user's orders
LINKED = "venue_account_linked"  # the audit log's actions
UNLINKED = "venue_account_unlinked"
NAMED_ORDERS = 5  # client_order_ids a refusal names
# Documents of the `orders` group naming one client_order_id: its order, and an index entry
# per venue order id (a replaced order has more than one).
ORDER_MATCHES = 10


class LinkRefused(ValueError):
    """The link is refused; the message says why. Nothing was written."""


class UnlinkRefused(ValueError):
    """The unlink is refused; `why` (NO_LINK, OTHER_ACCOUNT, CHANGED, OPEN_ORDERS) and the
    message say why. The link is as it was."""

    NO_LINK, OTHER_ACCOUNT, CHANGED, OPEN_ORDERS = "no_link", "other_account", "changed", "open"

    def __init__(self, why: str, message: str) -> None:
        super().__init__(message)
        self.why = why


def link_account(
    db: Client, tenant_id: str, uid: str, venue: str, account_id: str, by: str
) -> dict[str, Any]:
    """Link (tenant, uid) to the venue account, both documents in one transaction. Linking
    the same account again changes nothing (`changed` False), unless an unlink that did not
    finish left its mark on the link: that is taken off."""
    mine = db.document(paths.venue_account(tenant_id, uid))
    owner = db.document(paths.venue_account_owner(venue, account_id))
    audit = db.collection(paths.audit_log(tenant_id)).document()

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
            if UNLINKING not in current:
                return {**entry, "changed": False}
            transaction.update(mine, {UNLINKING: firestore.DELETE_FIELD})
            return {**entry, "changed": True}
        transaction.create(owner, entry)
        transaction.create(
            mine, {**entry, "linked_by": by, "linked_at": firestore.SERVER_TIMESTAMP}
        )
        transaction.create(audit, _audit_entry(LINKED, entry, by, "unlinked", _named(entry)))
        return {**entry, "changed": True}

    return run(db.transaction())


@dataclass(frozen=True)
class Unlink:
    """What an unlink asks: end (tenant, uid)'s link to this venue account."""

    tenant_id: str
    uid: str
    venue: str
    account_id: str
    by: str
    reason: str = ""


def unlink_account(db: Client, unlink: Unlink) -> dict[str, Any]:
    """End the link in the two steps the module describes. Returns the audit entry, with its
    id; raises UnlinkRefused (the link as it was)."""
    mine = db.document(paths.venue_account(unlink.tenant_id, unlink.uid))
    _mark_unlinking(db, mine, unlink)
    try:
        outcome = _end_link(db, mine, unlink)
    except Exception:
        _unmark(db, mine, unlink)
        raise
    if isinstance(outcome, UnlinkRefused):
        raise outcome
    return outcome


def _mark_unlinking(db: Client, mine: DocumentReference, unlink: Unlink) -> None:
    @firestore.transactional
    def run(transaction: Transaction) -> UnlinkRefused | None:
        link = mine.get(transaction=transaction).to_dict()
        refusal = link_refusal(link, unlink)
        if refusal is None and link is not None and UNLINKING not in link:
            transaction.update(mine, {UNLINKING: datetime.now(UTC)})
        return refusal

    refusal = run(db.transaction())
    if refusal is not None:
        raise refusal


def _end_link(db: Client, mine: DocumentReference, unlink: Unlink) -> Any:
    """The second step, in one transaction: the audit entry, or the refusal (the mark off)."""
    owner = db.document(paths.venue_account_owner(unlink.venue, unlink.account_id))
    drift = db.document(paths.user_drift(unlink.venue, unlink.tenant_id, unlink.uid))
    audit = db.collection(paths.audit_log(unlink.tenant_id)).document()
    orders = (
        db.collection(paths.orders(unlink.tenant_id))
        .where(filter=FieldFilter("uid", "==", unlink.uid))
        .where(filter=FieldFilter("status", "in", sorted(CAN_STILL_FILL)))
    )

    @firestore.transactional
    def run(transaction: Transaction) -> dict[str, Any] | UnlinkRefused:
        link = mine.get(transaction=transaction).to_dict()
        pending = still_open((o.to_dict() or {} for o in transaction.get(orders)), unlink.venue)
        held = owner.get(transaction=transaction).to_dict()
        report = drift.get(transaction=transaction).to_dict()
        refusal = link_refusal(link, unlink, marked=True)
        if refusal is not None:
            return refusal
        assert link is not None
        if pending:
            transaction.update(mine, {UNLINKING: firestore.DELETE_FIELD})
            return open_orders_refusal(unlink, pending)
        transaction.delete(mine)
        if held is not None and (held["tenant_id"], held["uid"]) == (unlink.tenant_id, unlink.uid):
            transaction.delete(owner)
        at = datetime.now(UTC)
        if report is not None and report.get("account_id") == unlink.account_id:
            transaction.update(drift, {"unlinked": True, "unlinked_at": at})
        entry = _audit_entry(UNLINKED, link, unlink.by, _named(link), "unlinked",
                             reason=unlink.reason, at=at, linked_by=link.get("linked_by"),
                             linked_at=link.get("linked_at"))  # fmt: skip
        transaction.create(audit, entry)
        return {**entry, "audit_id": audit.id}

    return run(db.transaction())


def _unmark(db: Client, mine: DocumentReference, unlink: Unlink) -> None:
    """After a failure in the second step: the link usable again, if it is still there."""

    @firestore.transactional
    def run(transaction: Transaction) -> None:
        link = mine.get(transaction=transaction).to_dict()
        if link_refusal(link, unlink, marked=True) is None:
            transaction.update(mine, {UNLINKING: firestore.DELETE_FIELD})

    run(db.transaction())


def link_refusal(
    link: dict[str, Any] | None, unlink: Unlink, marked: bool = False
) -> UnlinkRefused | None:
    """Why this link may not be ended as asked, or None. `marked`: the first step has run,
    so a link without its mark was changed meanwhile (linked again, or ended)."""
    if link is None or link.get("venue") != unlink.venue:
        if marked:
            return _changed(unlink)
        return UnlinkRefused(
            UnlinkRefused.NO_LINK, f"uid: {unlink.uid} has no {unlink.venue} account linked"
        )
    if link.get("account_id") != unlink.account_id:
        if marked:
            return _changed(unlink)
        return UnlinkRefused(
            UnlinkRefused.OTHER_ACCOUNT,
            f"account_id: {unlink.uid} is linked to {unlink.venue} account "
            f"{link.get('account_id')}, not {unlink.account_id}: nothing was unlinked",
        )
    if marked and UNLINKING not in link:
        return _changed(unlink)
    return None


def _changed(unlink: Unlink) -> UnlinkRefused:
    return UnlinkRefused(
        UnlinkRefused.CHANGED,
        f"the link of {unlink.uid} changed while it was being unlinked: nothing was unlinked",
    )


def still_open(orders: Iterable[dict[str, Any]], venue: str) -> list[dict[str, Any]]:
    """The orders at `venue` that can still fill (an order that names no venue counts: the
    safe side)."""
    return [
        order
        for order in orders
        if order.get("status") in CAN_STILL_FILL and order.get("broker", venue) == venue
    ]


def open_orders_refusal(unlink: Unlink, orders: list[dict[str, Any]]) -> UnlinkRefused:
    ids = sorted(str(order.get("client_order_id", "?")) for order in orders)
    named = ", ".join(ids[:NAMED_ORDERS]) + (", …" if len(ids) > NAMED_ORDERS else "")
    noun = "order" if len(orders) == 1 else "orders"
    return UnlinkRefused(
        UnlinkRefused.OPEN_ORDERS,
        f"{unlink.uid} has {len(orders)} {unlink.venue} {noun} that can still fill ({named}): "
        "cancel them or wait until they are filled or ended, then unlink; nothing was unlinked",
    )


def _named(link: dict[str, Any]) -> str:
    return f"{link['venue']} account {link['account_id']}"


def _audit_entry(
    action: str, link: dict[str, Any], by: str, was: str, now: str, **extra: Any
) -> dict[str, Any]:
    """An entry of the tenant's audit log, in the trading states' shape (scope, uid, from, to,
    reason, by, at), with the link's venue and account."""
    return {"action": action, "scope": "user", "uid": link["uid"], "venue": link["venue"],
            "account_id": link["account_id"], "from": was, "to": now, "reason": "", "by": by,
            "at": datetime.now(UTC), **extra}  # fmt: skip


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
        """The account orders are sent to: none while an unlink is ending the link."""
        link = self._link(owner)
        if link is None or UNLINKING in link:
            return None
        return str(link["account_id"])

    def _link(self, owner: AccountOwner) -> dict[str, Any] | None:
        data = self.db.document(paths.venue_account(owner.tenant_id, owner.uid)).get().to_dict()
        if data is None or data.get("venue") != self.venue:
            return None
        return data

    def account_of_order(self, client_order_id: str) -> str | None:
        """The account of the user who placed the order. The `orders` collection group also
        holds the venues' order index (reconciliation/{venue}/orders/{venue order id}), whose
        entries name the client_order_id but no user, and which sort first: so not limit(1)."""
        query = (
            self.db.collection_group("orders")
            .where(filter=FieldFilter("client_order_id", "==", client_order_id))
            .limit(ORDER_MATCHES)
        )
        for snapshot in query.stream():
            order = snapshot.to_dict() or {}
            if order.get("tenant_id") and order.get("uid"):
                # An order placed on a link being ended is still found in its account.
                link = self._link(AccountOwner(tenant_id=order["tenant_id"], uid=order["uid"]))
                return None if link is None else str(link["account_id"])
        return None
