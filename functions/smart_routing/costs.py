"""The cost of crossing the spread, from a quote that has passed `quote_problem`."""

from __future__ import annotations

# Thresholds are configured as decimals like 0.001; a spread computed in binary floating
# point can land a hair either side of one. Equal within this is equal.
_RELATIVE_TOLERANCE = 1e-9


def spread_pct(bid: float, ask: float) -> float:
    """(ask - bid) / mid, as a fraction: 0.002 is 0.2%."""
    mid = (bid + ask) / 2
    return (ask - bid) / mid


def estimate_slippage(bid: float, ask: float) -> float:
    """Expected cost of a marketable order: the half-spread as a fraction of the mid price."""
    return spread_pct(bid, ask) / 2


def exceeds_threshold(spread: float, threshold: float) -> bool:
    """True when the spread is above the threshold; a spread equal to it does not exceed it."""
    return spread > threshold + abs(threshold) * _RELATIVE_TOLERANCE


def format_pct(fraction: float) -> str:
    return f"{fraction * 100:.2f}%"
