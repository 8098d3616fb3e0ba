from decimal import Decimal

import pytest

from smart_routing.config.engine_config import load_config
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import ConfigError
from smart_routing.gate.policy import FailMode, Threshold


def test_defaults_with_an_empty_environment():
    config = load_config({})
    assert config.smart_routing_enabled is False
    assert config.dry_run is False
    assert config.routing.threshold_for(AssetClass.EQUITY).value == Decimal("0.001")
    assert config.routing.threshold_for(AssetClass.FOREX).value == Decimal("0.001")
    assert config.routing.threshold_for(AssetClass.CRYPTO).value == Decimal("0.001")
    assert config.routing.threshold_for(AssetClass.OPTIONS).value == Decimal("0.05")
    assert config.routing.fail_mode is FailMode.OPEN
    assert config.routing.max_quote_age_s == 5.0
    assert (config.uid, config.tenant_id) == ("local-user", "local-tenant")


def test_every_variable_is_read():
    config = load_config(
        {
            "EXEC_SMART_ROUTING_ENABLED": "true",
            "EXEC_MAX_SPREAD_PCT": "0.002",
            "EXEC_MAX_SPREAD_PCT_CRYPTO": "0.004",
            "EXEC_MAX_SPREAD_PCT_OPTIONS": "0.1",
            "EXEC_MAX_QUOTE_AGE_S": "2.5",
            "EXEC_ROUTING_FAIL_MODE": "closed",
            "EXEC_DRY_RUN": "yes",
            "EXEC_UID": "user_12345",
            "EXEC_TENANT_ID": "tenant_abc",
            "EXEC_PAPER_STARTING_CASH": "50000",
        }
    )
    assert config.smart_routing_enabled and config.dry_run
    assert config.routing.threshold_for(AssetClass.EQUITY).value == Decimal("0.002")
    assert config.routing.threshold_for(AssetClass.FOREX).value == Decimal("0.002")
    assert config.routing.threshold_for(AssetClass.CRYPTO).value == Decimal("0.004")
    assert config.routing.threshold_for(AssetClass.OPTIONS).value == Decimal("0.1")
    assert config.routing.max_quote_age_s == 2.5
    assert config.routing.fail_mode is FailMode.CLOSED
    assert (config.uid, config.tenant_id) == ("user_12345", "tenant_abc")
    assert config.paper_starting_cash == 50_000
    assert config.routing.threshold_for(AssetClass.CRYPTO).source == "EXEC_MAX_SPREAD_PCT_CRYPTO"
    assert config.routing.threshold_for(AssetClass.EQUITY).source == "EXEC_MAX_SPREAD_PCT"


def test_caps_margin_and_fees_are_read_exactly():
    config = load_config(
        {
            "EXEC_MAX_ORDER_NOTIONAL_FOREX": "250000.50",
            "EXEC_FOREX_MARGIN_RATE": "0.02",
            "EXEC_FEE_CRYPTO_TAKER_BPS": "15",
            "EXEC_FEE_SEC_PER_MILLION": "0",
        }
    )
    assert config.routing.max_order_notional[AssetClass.FOREX] == Decimal("250000.50")
    assert config.routing.max_order_notional[AssetClass.EQUITY] == Decimal(1_000_000)
    assert config.routing.forex_margin_rate == Decimal("0.02")
    assert config.fees.crypto_taker_bps == Decimal(15)
    assert config.fees.sec_per_million == 0
    assert load_config({}).paper_starting_cash == Decimal(100_000)


def test_the_what_if_reads_an_unset_switch_as_on_and_an_explicit_one_as_set():
    assert load_config({}, smart_routing_default=True).smart_routing_enabled is True
    env = {"EXEC_SMART_ROUTING_ENABLED": "false"}
    assert load_config(env, smart_routing_default=True).smart_routing_enabled is False


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("EXEC_MAX_SPREAD_PCT", "abc", "EXEC_MAX_SPREAD_PCT='abc' is not a finite number"),
        ("EXEC_MAX_SPREAD_PCT", "-0.001", "EXEC_MAX_SPREAD_PCT=-0.001 must be a fraction"),
        ("EXEC_MAX_SPREAD_PCT", "nan", "not a finite number"),
        ("EXEC_MAX_SPREAD_PCT", "5", "must be a fraction between 0 and 1"),
        ("EXEC_MAX_SPREAD_PCT_OPTIONS", "x", "EXEC_MAX_SPREAD_PCT_OPTIONS='x'"),
        ("EXEC_SMART_ROUTING_ENABLED", "maybe", "is not a boolean"),
        ("EXEC_MAX_QUOTE_AGE_S", "0", "must be greater than 0"),
        ("EXEC_ROUTING_FAIL_MODE", "sideways", "must be open or closed"),
        ("EXEC_TENANT_ID", "a/b", "no '/'"),
        ("EXEC_PAPER_STARTING_CASH", "-1", "must be greater than 0"),
        ("EXEC_MAX_ORDER_NOTIONAL_EQUITY", "lots", "is not a finite number"),
        ("EXEC_FOREX_MARGIN_RATE", "2", "must be at most 1"),
        ("EXEC_FEE_CRYPTO_TAKER_BPS", "-5", "must be at least 0"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_variable(name, value, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_config({name: value})


def test_blank_values_mean_unset():
    blank = load_config({"EXEC_MAX_SPREAD_PCT": "  "}).routing.threshold_for(AssetClass.EQUITY)
    assert blank == Threshold(value=Decimal("0.001"), source="default")


def test_simulated_quotes_are_parsed_and_canonical():
    config = load_config(
        {"EXEC_SIM_QUOTES": "btcusd=49950:50050; AAPL=189.9:190.1;F=11.99:12.01:100"}
    )
    assert config.simulated_quotes == {
        "BTC/USD": (49_950, 50_050, None),
        "AAPL": (189.9, 190.1, None),
        "F": (11.99, 12.01, 100),
    }


@pytest.mark.parametrize(
    "value", ["BTC/USD=50050:49950", "NOPE!=1:2", "AAPL=x:2", "AAPL", "F=1:2:0", "F=1:2:nan"]
)
def test_bad_simulated_quotes_are_errors(value):
    with pytest.raises(ConfigError, match="EXEC_SIM_QUOTES"):
        load_config({"EXEC_SIM_QUOTES": value})


def test_halted_symbols_have_no_simulated_quote():
    from smart_routing.adapters.clock import FixedClock
    from smart_routing.adapters.simulated_market import simulated_market
    from smart_routing.domain.assets import AssetClass

    config = load_config({"EXEC_SIM_HALTED": "HALT, btcusd"})
    assert config.simulated_halted == {"HALT", "BTC/USD"}
    market = simulated_market(config, FixedClock())
    assert market.get_quote("HALT", AssetClass.EQUITY) is None
    with pytest.raises(ConfigError, match="EXEC_SIM_HALTED"):
        load_config({"EXEC_SIM_HALTED": "NOT A SYMBOL"})


def test_the_reference_price_age_is_a_positive_number_of_seconds():
    assert load_config({}).routing.reference_price_max_age_s == 300
    config = load_config({"EXEC_REFERENCE_PRICE_MAX_AGE_S": "90"})
    assert config.routing.reference_price_max_age_s == 90
    for bad in ("0", "-1", "soon"):
        with pytest.raises(ConfigError, match="EXEC_REFERENCE_PRICE_MAX_AGE_S"):
            load_config({"EXEC_REFERENCE_PRICE_MAX_AGE_S": bad})
