"""Errors the core raises or expects its adapters to raise."""

from __future__ import annotations


class ConfigError(ValueError):
    """A setting is missing or malformed. Raised at start-up, never silently defaulted."""


class UnknownStrategyError(LookupError):
    """No strategy is registered under the requested id."""


class BrokerError(Exception):
    """Base of the outcomes a broker reports instead of an order."""


class OrderRejected(BrokerError):
    """The venue refused the order; nothing was placed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class VenueUnavailable(BrokerError):
    """The venue could not be reached, and the order certainly was not placed."""


class OrderOutcomeUnknown(BrokerError):
    """The order may or may not have reached the venue (a timeout after sending, say)."""


class InstrumentUnavailable(Exception):
    """The venue's instrument data could not be read or made no sense; nothing was sent."""


class FillAlreadyRecorded(Exception):
    """The ledger already holds this order's fills, recorded from the venue's own fill reports
    (the reconciler got there first): the submission adds no trade of its own."""
