from datetime import timedelta

import pytest

from smart_routing.clock import FixedClock
from smart_routing.costs import estimate_slippage, exceeds_threshold, spread_pct
from smart_routing.market_data import Quote, quote_problem

NOW = FixedClock().now()


def quote(bid: float, ask: float, age_s: float = 0.0) -> Quote:
    return Quote(symbol="X", bid=bid, ask=ask, as_of=NOW - timedelta(seconds=age_s), source="t")


def test_spread_is_ask_minus_bid_over_mid():
    assert spread_pct(49_950, 50_050) == pytest.approx(0.002)
    assert quote(49_950, 50_050).mid == 50_000


def test_slippage_is_the_half_spread_as_a_fraction_of_price():
    assert estimate_slippage(49_950, 50_050) == pytest.approx(0.001)
    assert estimate_slippage(100, 100) == 0


def test_a_spread_equal_to_the_threshold_does_not_exceed_it():
    # (100.05 - 99.95) / 100 is 0.001 on paper and a hair off it in binary floating point
    assert not exceeds_threshold(spread_pct(99.95, 100.05), 0.001)
    assert exceeds_threshold(spread_pct(99.9499, 100.0501), 0.001)


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
