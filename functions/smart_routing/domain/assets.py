"""Asset classes and instrument symbols: what a symbol is, read from its shape."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from functools import lru_cache

from pydantic import BaseModel, ConfigDict


class AssetClass(StrEnum):
    EQUITY = "EQUITY"
    FOREX = "FOREX"
    CRYPTO = "CRYPTO"
    OPTIONS = "OPTIONS"


class OptionRight(StrEnum):
    CALL = "CALL"
    PUT = "PUT"


# ISO 4217 codes of circulating fiat currencies (no precious metals, funds or test codes).
FIAT_CURRENCIES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD
    BTN BWP BYN BZD CAD CDF CHF CLP CNH CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN
    ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR
    ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL
    MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
    PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
    STN SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST
    XAF XCD XOF XPF YER ZAR ZMW
    """.split()
)

# Crypto assets and stablecoins the venues list. A caller may still name CRYPTO explicitly
# for a pair whose coin is missing here.
CRYPTO_ASSETS = frozenset(
    """
    AAVE ADA ALGO APE ARB ATOM AVAX BAT BCH BNB BONK BTC CRV DAI DOGE DOT ETC ETH FIL GRT
    HBAR ICP LDO LINK LTC MATIC MKR NEAR OP PAXG PEPE POL RNDR SHIB SOL SUSHI TON TRUMP
    UNI USDC USDG USDT WBTC XLM XRP XTZ YFI
    """.split()
)

KNOWN_ASSETS = FIAT_CURRENCIES | CRYPTO_ASSETS

_EQUITY = re.compile(r"[A-Z]{1,5}(?:[.\-][A-Z]{1,2})?")
# OCC: root (1-6), expiry YYMMDD, C or P, strike x 1000 in 8 digits. The standard form pads
# the root with spaces to six characters, 21 characters in all.
_OCC = re.compile(r"([A-Z][A-Z0-9]{0,5}) *([0-9]{2})([0-9]{2})([0-9]{2})([CP])([0-9]{8})")
_PAIR_SEPARATORS = re.compile(r"[/_]")
_PAIR_LEG = re.compile(r"[A-Z0-9]{2,10}")


class OptionContract(BaseModel):
    model_config = ConfigDict(frozen=True)

    underlying: str
    expiry: date
    right: OptionRight
    strike: float


class Instrument(BaseModel):
    """A parsed symbol. `symbol` is the canonical spelling (pairs as BASE/QUOTE)."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    asset_class: AssetClass
    base: str | None = None
    quote_currency: str | None = None
    option: OptionContract | None = None


def parse_symbol(symbol: str, asset_class: AssetClass | str | None = None) -> Instrument:
    """Parse a symbol; a caller-given asset class wins but must fit the symbol's shape.

    Raises ValueError naming the symbol when it is not a symbol of any supported class.
    """
    if not isinstance(symbol, str):
        raise ValueError(f"symbol must be a string, got {type(symbol).__name__}")
    if asset_class is not None:
        asset_class = _coerce_asset_class(asset_class)
    return _parse_cached(symbol, asset_class)


def detect_asset_class(symbol: str) -> AssetClass:
    return parse_symbol(symbol).asset_class


def _coerce_asset_class(value: AssetClass | str) -> AssetClass:
    try:
        return AssetClass(str(value).upper())
    except ValueError:
        allowed = ", ".join(c.value for c in AssetClass)
        raise ValueError(f"unknown asset class {value!r}; expected one of {allowed}") from None


@lru_cache(maxsize=4096)
def _parse_cached(symbol: str, asset_class: AssetClass | None) -> Instrument:
    text = symbol.strip().upper()
    if not text:
        raise ValueError("symbol is empty")
    if asset_class is None:
        return _detect(text, symbol)
    return _parse_as(text, symbol, asset_class)


def _detect(text: str, original: str) -> Instrument:
    option = _parse_occ(text, original)
    if option is not None:
        return option
    pair = _split_pair(text)
    if pair is not None:
        base, quote = pair
        unknown = [leg for leg in pair if leg not in KNOWN_ASSETS]
        if unknown:
            raise ValueError(
                f"symbol {original!r}: unknown currency or coin {unknown[0]!r} "
                "(name the asset class CRYPTO explicitly for an unlisted coin)"
            )
        both_fiat = base in FIAT_CURRENCIES and quote in FIAT_CURRENCIES
        asset_class = AssetClass.FOREX if both_fiat else AssetClass.CRYPTO
        return Instrument(
            symbol=f"{base}/{quote}", asset_class=asset_class, base=base, quote_currency=quote
        )
    if _EQUITY.fullmatch(text):
        return Instrument(symbol=text, asset_class=AssetClass.EQUITY)
    raise ValueError(
        f"symbol {original!r} is not an equity ticker, a currency or crypto pair, "
        "or an OCC option symbol"
    )


def _parse_as(text: str, original: str, asset_class: AssetClass) -> Instrument:
    if asset_class is AssetClass.OPTIONS:
        option = _parse_occ(text, original)
        if option is None:
            raise ValueError(f"symbol {original!r} is not an OCC option symbol")
        return option
    if asset_class is AssetClass.EQUITY:
        if not _EQUITY.fullmatch(text):
            raise ValueError(f"symbol {original!r} is not an equity ticker")
        return Instrument(symbol=text, asset_class=asset_class)
    pair = _split_pair(text)
    if pair is None:
        raise ValueError(f"symbol {original!r} is not a {asset_class.value.lower()} pair")
    base, quote = pair
    if asset_class is AssetClass.FOREX and not (
        base in FIAT_CURRENCIES and quote in FIAT_CURRENCIES
    ):
        raise ValueError(f"symbol {original!r} is not a pair of two ISO 4217 fiat currencies")
    return Instrument(
        symbol=f"{base}/{quote}", asset_class=asset_class, base=base, quote_currency=quote
    )


def _split_pair(text: str) -> tuple[str, str] | None:
    """BASE/QUOTE or BASE_QUOTE as written; a slashless pair only where both legs are listed."""
    legs = _PAIR_SEPARATORS.split(text)
    if len(legs) == 2:
        if all(_PAIR_LEG.fullmatch(leg) for leg in legs):
            return legs[0], legs[1]
        return None
    if len(legs) > 2:
        return None
    for cut in range(3, len(text) - 2):
        base, quote = text[:cut], text[cut:]
        if base in KNOWN_ASSETS and quote in KNOWN_ASSETS:
            return base, quote
    return None


def _parse_occ(text: str, original: str) -> Instrument | None:
    match = _OCC.fullmatch(text)
    if match is None:
        return None
    root, yy, mm, dd, right, strike = match.groups()
    try:
        expiry = date(2000 + int(yy), int(mm), int(dd))
    except ValueError:
        raise ValueError(f"symbol {original!r}: expiry {yy}{mm}{dd} is not a date") from None
    strike_value = int(strike) / 1000
    if strike_value <= 0:
        raise ValueError(f"symbol {original!r}: strike must be positive")
    contract = OptionContract(
        underlying=root,
        expiry=expiry,
        right=OptionRight.CALL if right == "C" else OptionRight.PUT,
        strike=strike_value,
    )
    return Instrument(
        symbol=f"{root}{yy}{mm}{dd}{right}{strike}",
        asset_class=AssetClass.OPTIONS,
        option=contract,
    )


def contract_multiplier(asset_class: AssetClass) -> float:
    """Units of the underlying per quantity unit: one equity option controls 100 shares."""
    return 100.0 if asset_class is AssetClass.OPTIONS else 1.0
