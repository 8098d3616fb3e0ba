from datetime import date

import pytest

from smart_routing.domain.assets import AssetClass, OptionRight, detect_asset_class, parse_symbol
from smart_routing.strategies import BaseStrategy


@pytest.mark.parametrize("symbol", ["AAPL", "BRK.B", "BF-B", "F", "GOOGL", "spy"])
def test_plain_tickers_are_equities(symbol):
    assert detect_asset_class(symbol) is AssetClass.EQUITY


@pytest.mark.parametrize(
    ("symbol", "canonical"),
    [("EUR/USD", "EUR/USD"), ("USDJPY", "USD/JPY"), ("gbp_usd", "GBP/USD"), ("EURGBP", "EUR/GBP")],
)
def test_fiat_pairs_are_forex_with_or_without_a_slash(symbol, canonical):
    instrument = parse_symbol(symbol)
    assert instrument.asset_class is AssetClass.FOREX
    assert instrument.symbol == canonical


@pytest.mark.parametrize(
    ("symbol", "base", "quote"),
    [("BTC/USD", "BTC", "USD"), ("ETH/BTC", "ETH", "BTC"), ("SOL/USDT", "SOL", "USDT"),
     ("BTCUSD", "BTC", "USD"), ("SOLUSDT", "SOL", "USDT")],
)  # fmt: skip
def test_pairs_with_a_crypto_leg_are_crypto(symbol, base, quote):
    instrument = parse_symbol(symbol)
    assert instrument.asset_class is AssetClass.CRYPTO
    assert (instrument.base, instrument.quote_currency) == (base, quote)


@pytest.mark.parametrize(
    ("symbol", "underlying", "expiry", "right", "strike"),
    [
        ("AAPL240119C00150000", "AAPL", date(2024, 1, 19), OptionRight.CALL, 150.0),
        ("SPY240426P00555000", "SPY", date(2024, 4, 26), OptionRight.PUT, 555.0),
        ("SPY   240426P00555500", "SPY", date(2024, 4, 26), OptionRight.PUT, 555.5),
        ("BRKB  250117C00450000", "BRKB", date(2025, 1, 17), OptionRight.CALL, 450.0),
    ],
)
def test_occ_symbols_are_options_parsed_into_their_parts(symbol, underlying, expiry, right, strike):
    instrument = parse_symbol(symbol)
    assert instrument.asset_class is AssetClass.OPTIONS
    assert instrument.option is not None
    assert instrument.option.underlying == underlying
    assert instrument.option.expiry == expiry
    assert instrument.option.right is right
    assert instrument.option.strike == strike
    assert " " not in instrument.symbol


def test_the_padded_occ_form_is_21_characters_and_means_the_same_contract():
    padded = "SPY   240426P00555000"
    assert len(padded) == 21
    assert parse_symbol(padded) == parse_symbol("SPY240426P00555000")


@pytest.mark.parametrize(
    "symbol",
    ["", "   ", "TOOLONGTICKER", "AAPL!", "12345", "EUR/XYZ", "A/B/C", "AAPL241399C00150000"],
)
def test_garbage_raises_value_error_naming_the_symbol(symbol):
    with pytest.raises(ValueError) as raised:
        detect_asset_class(symbol)
    if symbol.strip():
        assert repr(symbol) in str(raised.value)


def test_a_caller_given_class_wins_where_it_fits_the_shape():
    assert parse_symbol("NEWCOIN/USD", "CRYPTO").asset_class is AssetClass.CRYPTO
    assert parse_symbol("EUR/USD", AssetClass.CRYPTO).asset_class is AssetClass.CRYPTO


@pytest.mark.parametrize(
    ("symbol", "asset_class"),
    [("AAPL", "OPTIONS"), ("EUR/USD", "EQUITY"), ("BTC/USD", "FOREX"), ("AAPL", "FOREX"),
     ("AAPL240119C00150000", "EQUITY")],
)  # fmt: skip
def test_a_caller_given_class_is_checked_against_the_shape(symbol, asset_class):
    with pytest.raises(ValueError, match=repr(symbol).replace("/", ".")):
        parse_symbol(symbol, asset_class)


def test_an_unknown_asset_class_name_is_rejected():
    with pytest.raises(ValueError, match="unknown asset class 'BONDS'"):
        parse_symbol("AAPL", "BONDS")


def test_base_strategy_exposes_detection_as_a_static_method():
    assert BaseStrategy.detect_asset_class("BTC/USD") is AssetClass.CRYPTO


def test_digits_of_other_scripts_do_not_make_an_option_symbol():
    # '౭' (Telugu seven) and '᥉' (Limbu nine) are digits to \d, not to the OCC format.
    with pytest.raises(ValueError):
        parse_symbol("K౭᥉0101C00001000")
