from datetime import timedelta
from decimal import Decimal

import pytest

from smart_routing.adapters.clock import FixedClock
from smart_routing.market.quotes import Quote, quote_problem
from smart_routing.market.spread import estimate_slippage, exceeds_threshold, spread_pct

NOW = FixedClock().now()


def quote(bid: float, ask: float, age_s: float = 0.0) -> Quote:
    return Quote(symbol="X", bid=bid, ask=ask, as_of=NOW - timedelta(seconds=age_s), source="t")


def test_spread_is_ask_minus_bid_over_mid_exactly():
    assert spread_pct(Decimal(49_950), Decimal(50_050)) == Decimal("0.002")
    assert quote(49_950, 50_050).mid == 50_000


def test_slippage_is_the_half_spread_as_a_fraction_of_price():
    assert estimate_slippage(Decimal(49_950), Decimal(50_050)) == Decimal("0.001")
    assert estimate_slippage(Decimal(100), Decimal(100)) == 0


def test_a_spread_equal_to_the_threshold_does_not_exceed_it():
    # (100.05 - 99.95) / 100 is exactly 0.001 in decimal, where binary floats miss it
    at = spread_pct(Decimal("99.95"), Decimal("100.05"))
    assert at == Decimal("0.001")
    assert not exceeds_threshold(at, Decimal("0.001"))
    assert exceeds_threshold(spread_pct(Decimal("99.9499"), Decimal("100.0501")), Decimal("0.001"))


@pytest.mark.parametrize(
    ("bid", "ask", "age_s", "problem"),
    [
        (0, 100, 0, "not positive"),
        (-1, 100, 0, "not positive"),
        (100, 0, 0, "not positive"),
        (float("nan"), 100, 0, "not a finite price"),
        (100, float("inf"), 0, "not a finite price"),
        (101, 100, 0, "crossed"),
        (99, 100, 5.5, "stale"),
        (99, 100, -10, "in the future"),
    ],
)
def test_bad_quotes_say_what_is_wrong(bid, ask, age_s, problem):
    assert problem in quote_problem(quote(bid, ask, age_s), NOW, max_age_s=5)


def test_a_good_quote_has_no_problem_up_to_the_max_age():
    assert quote_problem(quote(99, 100, age_s=5), NOW, max_age_s=5) is None
    assert quote_problem(quote(100, 100, age_s=0), NOW, max_age_s=5) is None
