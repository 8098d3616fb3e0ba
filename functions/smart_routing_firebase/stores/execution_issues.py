"""What could not be placed for a tenant, listed where its admins read it:
tenants/{tenant_id}/execution_issues/{kind}-{id}, one document per order or fill (created once,
so a rerun lists nothing twice). Each is also logged at ERROR by whoever lists it."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from google.api_core.exceptions import AlreadyExists
from google.cloud.firestore import Client

from smart_routing_firebase.stores import paths

NOT_PLACED = "not_placed"  # an order the venue never took
EXCESS_FILL = "excess_fill"  # a fill beyond its order's qty, held for operations


def list_issue(db: Client, tenant_id: str, kind: str, subject_id: str, **fields: Any) -> None:
    """`subject_id`: the order's client_order_id or the fill's id."""
    document = {"kind": kind, "tenant_id": tenant_id, "listed_at": datetime.now(UTC), **fields}
    ref = db.document(paths.execution_issue(tenant_id, f"{kind}-{subject_id}"))
    with contextlib.suppress(AlreadyExists):  # listed on an earlier run
        ref.create(document)
