"""The engine's settings (EngineConfig) from every EXEC_* variable, checked at start-up."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from smart_routing.config.environment import (
    env_bool,
    env_decimal,
    env_fraction,
    env_positive,
    env_text,
)
from smart_routing.config.session_overrides import session_table
from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.domain.errors import ConfigError
from smart_routing.gate.fees import FeeSchedule
from smart_routing.gate.limit_fallback import DEFAULT_LIMIT_TTL_S, WideSpreadAction
from smart_routing.gate.policy import (
    DEFAULT_FOREX_MARGIN_RATE,
    DEFAULT_IMPACT_Y,
    DEFAULT_MAX_ADV_FRACTION,
    DEFAULT_MAX_ORDER_NOTIONAL,
    DEFAULT_MAX_QUOTE_AGE_S,
    DEFAULT_REFERENCE_PRICE_MAX_AGE_S,
    DEFAULT_WAIT_INTERVAL_S,
    FailMode,
    RoutingPolicy,
    Threshold,
)
from smart_routing.portfolio.paper_account import DEFAULT_STARTING_CASH


class EngineConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    smart_routing_enabled: bool = False
    routing: RoutingPolicy = Field(default_factory=RoutingPolicy)
    fees: FeeSchedule = Field(default_factory=FeeSchedule)
    dry_run: bool = False
    wide_spread_action: WideSpreadAction = WideSpreadAction.WAIT
    limit_ttl_s: float = DEFAULT_LIMIT_TTL_S
    uid: str = "local-user"
    tenant_id: str = "local-tenant"
    paper_starting_cash: Decimal = DEFAULT_STARTING_CASH
    # Fixed (bid, ask) per canonical symbol for the simulated market.
    # symbol -> (bid, ask, size the touch shows or None for no limit)
    simulated_quotes: dict[str, tuple[float, float, float | None]] = Field(default_factory=dict)
    # Symbols the simulated market has no quote for, as when trading is halted.
    simulated_halted: frozenset[str] = frozenset()


def load_config(
    environ: Mapping[str, str] | None = None, smart_routing_default: bool = False
) -> EngineConfig:
    """Read every EXEC_* setting; raises ConfigError naming the variable and the bad value.

    `smart_routing_default` is what an unset EXEC_SMART_ROUTING_ENABLED means: off for the
    engine (as in the seed), on for the what-if and the demo.
    """
    env = os.environ if environ is None else environ
    return EngineConfig(
        smart_routing_enabled=env_bool(env, "EXEC_SMART_ROUTING_ENABLED", smart_routing_default),
        routing=_routing_policy(env),
        fees=_fee_schedule(env),
        dry_run=env_bool(env, "EXEC_DRY_RUN", False),
        wide_spread_action=_wide_spread_action(env, "EXEC_WIDE_SPREAD_ACTION"),
        limit_ttl_s=env_positive(env, "EXEC_LIMIT_TTL_S", DEFAULT_LIMIT_TTL_S),
        uid=_name(env, "EXEC_UID", "local-user"),
        tenant_id=_name(env, "EXEC_TENANT_ID", "local-tenant"),
        paper_starting_cash=env_decimal(env, "EXEC_PAPER_STARTING_CASH", DEFAULT_STARTING_CASH),
        simulated_quotes=_simulated_quotes(env, "EXEC_SIM_QUOTES"),
        simulated_halted=_symbols(env, "EXEC_SIM_HALTED"),
    )


def _routing_policy(env: Mapping[str, str]) -> RoutingPolicy:
    """Each class: EXEC_MAX_SPREAD_PCT_<CLASS>, else EXEC_MAX_SPREAD_PCT (not options), else
    the default; the threshold remembers which setting it came from."""
    thresholds = RoutingPolicy().thresholds
    general = env_fraction(env, "EXEC_MAX_SPREAD_PCT")
    if general is not None:
        for asset_class in AssetClass:
            if asset_class is not AssetClass.OPTIONS:
                thresholds[asset_class] = Threshold(value=general, source="EXEC_MAX_SPREAD_PCT")
    for asset_class in AssetClass:
        name = f"EXEC_MAX_SPREAD_PCT_{asset_class.value}"
        value = env_fraction(env, name)
        if value is not None:
            thresholds[asset_class] = Threshold(value=value, source=name)
    caps = {
        c: env_decimal(env, f"EXEC_MAX_ORDER_NOTIONAL_{c.value}", DEFAULT_MAX_ORDER_NOTIONAL[c])
        for c in AssetClass
    }
    margin = env_decimal(env, "EXEC_FOREX_MARGIN_RATE", DEFAULT_FOREX_MARGIN_RATE)
    if margin > 1:
        raise ConfigError(f"EXEC_FOREX_MARGIN_RATE={margin} must be at most 1 (0.05 is 20:1)")
    return RoutingPolicy(
        thresholds=thresholds,
        max_quote_age_s=env_positive(env, "EXEC_MAX_QUOTE_AGE_S", DEFAULT_MAX_QUOTE_AGE_S),
        reference_price_max_age_s=env_positive(
            env, "EXEC_REFERENCE_PRICE_MAX_AGE_S", DEFAULT_REFERENCE_PRICE_MAX_AGE_S
        ),
        fail_mode=_fail_mode(env, "EXEC_ROUTING_FAIL_MODE", FailMode.OPEN),
        max_order_notional=caps,
        forex_margin_rate=margin,
        sessions=session_table(env),
        max_adv_fraction=_adv_fraction(env, "EXEC_MAX_ADV_FRACTION"),
        impact_y=_bounded(env, "EXEC_IMPACT_Y", DEFAULT_IMPACT_Y, 10),
        wait_interval_s=_bounded(env, "EXEC_WAIT_INTERVAL_S", DEFAULT_WAIT_INTERVAL_S, 86_400),
    )


def _adv_fraction(env: Mapping[str, str], name: str) -> Decimal:
    value = env_fraction(env, name)
    if value is None:
        return DEFAULT_MAX_ADV_FRACTION
    if value == 0:
        raise ConfigError(f"{name}={value} must be above 0 (0.1 means 10% of the daily volume)")
    return value


def _bounded(env: Mapping[str, str], name: str, default: float, most: float) -> float:
    number = env_positive(env, name, default)
    if number > most:
        raise ConfigError(f"{name}={number:g} must be at most {most:g}")
    return number


_FEE_SETTINGS = {
    "crypto_taker_bps": "EXEC_FEE_CRYPTO_TAKER_BPS",
    "sec_per_million": "EXEC_FEE_SEC_PER_MILLION",
    "taf_per_share": "EXEC_FEE_TAF_PER_SHARE",
    "taf_max": "EXEC_FEE_TAF_MAX",
    "options_per_contract": "EXEC_FEE_OPTIONS_PER_CONTRACT",
    "options_taf_per_contract": "EXEC_FEE_OPTIONS_TAF_PER_CONTRACT",
    "forex_per_million_units": "EXEC_FEE_FOREX_PER_MILLION_UNITS",
}


def _fee_schedule(env: Mapping[str, str]) -> FeeSchedule:
    defaults = FeeSchedule()
    return FeeSchedule(
        **{
            field: env_decimal(env, name, getattr(defaults, field), allow_zero=True)
            for field, name in _FEE_SETTINGS.items()
        }
    )


def _fail_mode(env: Mapping[str, str], name: str, default: FailMode) -> FailMode:
    value = env_text(env, name)
    if value is None:
        return default
    try:
        return FailMode(value.lower())
    except ValueError:
        allowed = " or ".join(mode.value for mode in FailMode)
        raise ConfigError(f"{name}={value!r} must be {allowed}") from None


def _wide_spread_action(env: Mapping[str, str], name: str) -> WideSpreadAction:
    value = env_text(env, name)
    if value is None:
        return WideSpreadAction.WAIT
    try:
        return WideSpreadAction(value.lower())
    except ValueError:
        allowed = " or ".join(action.value for action in WideSpreadAction)
        raise ConfigError(f"{name}={value!r} must be {allowed}") from None


def _name(env: Mapping[str, str], name: str, default: str) -> str:
    value = env_text(env, name)
    if value is None:
        return default
    if "/" in value or len(value) > 128:
        raise ConfigError(f"{name}={value!r} must be at most 128 characters with no '/'")
    return value


def _simulated_quotes(
    env: Mapping[str, str], name: str
) -> dict[str, tuple[float, float, float | None]]:
    """SYMBOL=BID:ASK[:SIZE] separated by ';', e.g. 'BTC/USD=49950:50050;F=11.99:12.01:100';
    SIZE is what the touch shows on each side (none: no limit)."""
    value = env_text(env, name)
    if value is None:
        return {}
    quotes = {}
    for entry in filter(None, (part.strip() for part in value.split(";"))):
        symbol, _, touch = entry.partition("=")
        bid_text, _, rest = touch.partition(":")
        ask_text, _, size_text = rest.partition(":")
        try:
            canonical = parse_symbol(symbol).symbol
            bid, ask = float(bid_text), float(ask_text)
            size = float(size_text) if size_text else None
        except ValueError as exc:
            raise ConfigError(f"{name}: {entry!r} is not SYMBOL=BID:ASK[:SIZE] ({exc})") from None
        if not (math.isfinite(bid) and math.isfinite(ask) and 0 < bid <= ask):
            raise ConfigError(f"{name}: {entry!r} needs 0 < bid <= ask")
        if size is not None and not (math.isfinite(size) and size > 0):
            raise ConfigError(f"{name}: {entry!r} needs a size above 0")
        quotes[canonical] = (bid, ask, size)
    return quotes


def _symbols(env: Mapping[str, str], name: str) -> frozenset[str]:
    value = env_text(env, name)
    if value is None:
        return frozenset()
    try:
        return frozenset(parse_symbol(s.strip()).symbol for s in value.split(",") if s.strip())
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None
