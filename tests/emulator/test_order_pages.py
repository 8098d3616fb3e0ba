"""A scheduled run's orders in bounded pages: each run reads at most its pages, goes on where
the last one stopped, and starts over after reaching the end (on the Firestore emulator)."""

from __future__ import annotations

import uuid

from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing_firebase.stores.order_pages import OrderPages


def test_runs_page_through_the_orders_from_where_the_last_stopped(db, tenant_id):
    status = f"paged-{uuid.uuid4().hex[:8]}"  # only this test's orders match
    ids = [f"order-{n}" for n in range(5)]
    for order_id in ids:
        db.document(f"tenants/{tenant_id}/orders/{order_id}").set({"status": status})
    query = db.collection_group("orders").where(filter=FieldFilter("status", "==", status))

    def run() -> list[str]:
        return [s.id for s in OrderPages(db, f"test-{status}", query, page_size=2, max_pages=1)]

    assert [run(), run(), run(), run()] == [ids[:2], ids[2:4], ids[4:], ids[:2]]
    both = OrderPages(db, f"test-{status}-all", query, page_size=2, max_pages=5)
    assert [s.id for s in both] == ids  # pages enough for all: one run sees every order
