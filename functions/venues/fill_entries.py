"""What the venue fill sources share: reading one listed entry exactly, or saying why not."""

from __future__ import annotations

from decimal import Decimal

from pydantic import ValidationError

from smart_routing.domain.money import to_decimal
from venues.http import describe

# What reading one malformed entry raises: it is reported and skipped, never the whole page.
MALFORMED = (ValueError, KeyError, TypeError, AttributeError)


def exact(value: object, what: str) -> Decimal:
    """Venues send amounts as decimal strings: a float would already be inexact."""
    if isinstance(value, float):
        raise ValueError(f"{what} must be a decimal string, got the float {value!r}")
    return to_decimal(value, what)


def entry_id(entry: object) -> str | None:
    value = entry.get("id") if isinstance(entry, dict) else None
    return value if isinstance(value, str) and value else None


def problem(what: str, entry: object, exc: Exception) -> str:
    """`what` names the kind of entry: "alpaca FILL activity", "oanda transaction"."""
    reason = (
        "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        if isinstance(exc, ValidationError)
        else describe(exc)
    )
    return f"{what} {entry_id(entry) or '(no id)'} skipped: {reason}"
