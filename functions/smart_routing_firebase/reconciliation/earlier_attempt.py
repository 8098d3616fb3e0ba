"""An idempotency key's earlier attempt whose outcome was left unclear, looked up before the
key runs again.

An attempt whose venue call had an unclear outcome leaves its order `unknown` (or, if it died
mid-call, `submitting`) and gives its key back, so that a call again with the key looks
again. That call must not decide again first: by then the market, the account or the
strategy may say WAIT, hold or reject, while the venue holds the first attempt's order. So
the order is asked of the venue by its client_order_id before anything is decided: an order
the venue holds is recorded as found and is the call's answer. One the venue does not show
runs again as before, sent under the same client_order_id, which the venue takes once.
"""

from __future__ import annotations

from datetime import datetime

from google.cloud.firestore import Client

from smart_routing.domain.orders import Order
from smart_routing.ports import Broker
from smart_routing_firebase.reconciliation.order_refresh import refresh_order
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.orders import UNRESOLVED
from smart_routing_firebase.stores.venue_positions import VenuePositions


def venue_order_of_earlier_attempt(
    db: Client, broker: Broker, tenant_id: str, client_order_id: str, now: datetime
) -> Order | None:
    """The earlier attempt's order as the venue holds it (now recorded so), or None: there
    was no attempt left unclear, or the venue does not show its order (or could not be
    asked), and the key runs as it would."""
    snapshot = db.document(paths.order(tenant_id, client_order_id)).get()
    if not snapshot.exists or snapshot.get("status") not in UNRESOLVED:
        return None
    _, found = refresh_order(db, broker, snapshot, now, VenuePositions(db))
    return found
