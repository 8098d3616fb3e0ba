"""Models to Firestore documents and back: JSON-shaped, with real timestamps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

# An order's times, stored as Timestamps (the reconciler queries expires_at).
ORDER_TIMES = ("submitted_at", "filled_at", "expires_at")


def to_document(model: BaseModel, timestamp_fields: tuple[str, ...] = ("timestamp",)) -> dict:
    """JSON types (enums as strings, dates as ISO strings); timestamps stay datetimes so
    Firestore stores them as Timestamps."""
    document = model.model_dump(mode="json")
    for name in timestamp_fields:
        value = getattr(model, name, None)
        if isinstance(value, datetime):
            document[name] = value
    return document


def without_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def data_of(snapshot: Any) -> dict[str, Any]:
    """The fields of a snapshot that exists (a query's result, or one checked with `.exists`)."""
    data = snapshot.to_dict()
    assert data is not None, f"{snapshot.reference.path} does not exist"
    return data


def field_or_none(snapshot: Any, name: str) -> Any:
    """One field of a document snapshot, or None where the document has none (`get` copies
    just that field)."""
    try:
        return snapshot.get(name)
    except KeyError:
        return None
