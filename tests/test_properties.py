"""Properties that hold for any quote, not just the examples."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.clock import FixedClock
from smart_routing.domain.assets import KNOWN_ASSETS, AssetClass, parse_symbol
from smart_routing.domain.orders import AccountSnapshot, OrderIntent
from smart_routing.gate.decision import CostCheck, GateAction
from smart_routing.gate.policy import FailMode, RoutingPolicy
from smart_routing.gate.router import SmartRouter
from smart_routing.market.quotes import Quote, quote_problem
from smart_routing.market.spread import spread_pct

CLOCK = FixedClock()
prices = st.decimals(min_value="0.000001", max_value="1000000000", places=6)
any_floats = st.floats(allow_nan=True, allow_infinity=True)
thresholds = st.decimals(min_value=0, max_value=1, places=6)
halves = st.decimals(min_value=0, max_value="0.5", places=6)
SPEC = BuiltinInstruments().get_instrument("AAPL", AssetClass.EQUITY)
INTENT = OrderIntent(symbol="AAPL", side="buy", qty=1)
RICH = AccountSnapshot(cash=Decimal(10**12), buying_power=Decimal(10**12), as_of=CLOCK.now())


def quote(bid, ask, age_s=0.0):
    as_of = CLOCK.now() - timedelta(seconds=age_s)
    return Quote(symbol="AAPL", bid=bid, ask=ask, as_of=as_of, source="hypothesis")


def decide(router: SmartRouter, q: Quote):
    return router.decide(INTENT, SPEC, q, CLOCK.now(), RICH)


@given(prices, prices)
def test_spread_of_any_valid_quote_is_non_negative(a, b):
    bid, ask = min(a, b), max(a, b)
    assert quote_problem(quote(bid, ask), CLOCK.now(), 5) is None
    assert spread_pct(bid, ask) >= 0


@given(any_floats, any_floats, st.floats(min_value=-100, max_value=100))
def test_a_bad_quote_never_counts_as_cheap(bid, ask, age_s):
    q = quote(bid, ask, age_s)
    if quote_problem(q, CLOCK.now(), 5) is None:
        return  # a valid quote: covered elsewhere
    for mode in FailMode:
        decision = decide(SmartRouter(RoutingPolicy(fail_mode=mode)), q)
        assert decision.spread_pct is None
        assert decision.estimated_slippage is None
        assert decision.cost_check is CostCheck.UNAVAILABLE
        if mode is FailMode.CLOSED:
            assert decision.downgraded and "Quote unavailable" in decision.reason
        else:  # through the cost check; a stale quote's price may still fail the size check
            assert not decision.downgraded
            assert decision.should_execute or decision.action is GateAction.REJECT


@given(prices, halves, halves, thresholds)
def test_downgrading_is_monotone_in_the_spread(mid, half_a, half_b, threshold):
    narrow, wide = sorted((half_a, half_b))
    router = SmartRouter(RoutingPolicy().with_uniform_threshold(threshold, "test"))

    def downgraded(half: Decimal) -> bool:
        return decide(router, quote(mid * (1 - half), mid * (1 + half))).downgraded

    if downgraded(narrow):
        assert downgraded(wide)


@given(prices, st.decimals(min_value=0, max_value="0.9", places=6))
def test_the_cost_check_is_exactly_the_threshold_comparison(mid, half):
    q = quote(mid * (1 - half), mid * (1 + half))
    decision = decide(SmartRouter(), q)
    # Exact decimals: the spread equals 2*half; the threshold is the default 0.001 as the
    # session of the clock scales it.
    assert decision.spread_pct == spread_pct(q.bid, q.ask)
    session_threshold = RoutingPolicy().threshold_for(AssetClass.EQUITY, None, decision.session)
    assert decision.threshold_pct == session_threshold.value
    exceeded = decision.spread_pct > session_threshold.value
    assert decision.downgraded is exceeded
    assert decision.cost_check is (CostCheck.EXCEEDED if exceeded else CostCheck.PASSED)
    assert not (decision.should_execute and decision.downgraded)


def occ_symbol(root: str, padding: int, expiry: date, right: str, strike: int) -> str:
    return f"{root}{' ' * padding}{expiry:%y%m%d}{right}{strike:08d}"


# Symbol-shaped text as well as any text, so that many examples are accepted symbols.
symbol_texts = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"[A-Za-z0-9./_\- ]{1,24}", fullmatch=True),
    st.builds("{}{}{}".format, st.sampled_from(sorted(KNOWN_ASSETS)),
              st.sampled_from(["/", "_", "", " / "]), st.sampled_from(sorted(KNOWN_ASSETS))),
    st.builds(occ_symbol, st.from_regex(r"[A-Z][A-Z0-9]{0,5}", fullmatch=True),
              st.integers(0, 5), st.dates(date(2000, 1, 1), date(2099, 12, 31)),
              st.sampled_from("CP"), st.integers(0, 10**8 - 1)),
)  # fmt: skip


@given(symbol_texts)
def test_an_accepted_symbol_parses_the_same_from_its_canonical_spelling(symbol):
    try:
        instrument = parse_symbol(symbol)
    except ValueError:
        return  # the only way to refuse a symbol
    assert parse_symbol(instrument.symbol) == instrument
    assert parse_symbol(symbol, instrument.asset_class) == instrument
    assert parse_symbol(instrument.symbol, instrument.asset_class) == instrument
