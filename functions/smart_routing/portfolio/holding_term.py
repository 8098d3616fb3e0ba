"""The US holding period of a lot a sale closed: what decides short- or long-term gains."""

from __future__ import annotations

from datetime import date
from enum import StrEnum


class HoldingTerm(StrEnum):
    """US holding period: long when held more than one year."""

    SHORT = "short"
    LONG = "long"


def holding_term(acquired_on: date, sold_on: date) -> HoldingTerm:
    """Long when held more than one year: sold after the acquisition's anniversary (the
    holding period counts from the day after acquisition and includes the day of sale).
    A Feb 29 acquisition's anniversary is Feb 28."""
    try:
        anniversary = acquired_on.replace(year=acquired_on.year + 1)
    except ValueError:
        anniversary = acquired_on.replace(year=acquired_on.year + 1, day=28)
    return HoldingTerm.LONG if sold_on > anniversary else HoldingTerm.SHORT
