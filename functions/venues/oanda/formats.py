"""How OANDA writes what it sends and takes: instrument names, times, decimal amounts, and
what a fill transaction cost."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from smart_routing.domain.money import ZERO, to_decimal


def instrument_of(symbol: str) -> str:
    return symbol.replace("/", "_")


def symbol_of(instrument: str) -> str:
    return instrument.replace("_", "/")


def parse_time(text: str) -> datetime:
    """OANDA's RFC 3339 times carry nanoseconds, more than datetime parses."""
    head, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(fraction + '000000')[:6]}").replace(tzinfo=UTC)


def gtd_time(at: datetime) -> str:
    """RFC 3339 in UTC, as OANDA's DateTime takes it."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def amount(value: object, what: str) -> Decimal:
    """OANDA sends every number as a decimal string: read it exactly."""
    return to_decimal(value, what)


def fill_fees(fill: dict[str, Any]) -> Decimal:
    """What the fill cost, in the account's home currency: the commission (OANDA reports it as
    a positive charge) and any financing paid (negative financing); financing received is
    not a fee and does not offset one."""
    commission = abs(amount(fill.get("commission") or 0, "commission"))
    financing = amount(fill.get("financing") or 0, "financing")
    return commission + max(-financing, ZERO)
