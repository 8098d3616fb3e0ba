"""Engine settings from the environment, checked at start-up: a bad value is an error."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from smart_routing.assets import AssetClass, parse_symbol
from smart_routing.errors import ConfigError
from smart_routing.routing import (
    DEFAULT_MAX_QUOTE_AGE_S,
    DEFAULT_MAX_SPREAD_PCT,
    FailMode,
    RoutingPolicy,
    default_thresholds,
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class EngineConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    smart_routing_enabled: bool = False
    routing: RoutingPolicy = Field(default_factory=RoutingPolicy)
    dry_run: bool = False
    uid: str = "local-user"
    tenant_id: str = "local-tenant"
    paper_starting_cash: float = 1_000_000.0
    # Fixed (bid, ask) per canonical symbol for the simulated market.
    simulated_quotes: dict[str, tuple[float, float]] = Field(default_factory=dict)
    # Symbols the simulated market has no quote for, as when trading is halted.
    simulated_halted: frozenset[str] = frozenset()


def load_config(environ: Mapping[str, str] | None = None) -> EngineConfig:
    """Read every EXEC_* setting; raises ConfigError naming the variable and the bad value."""
    env = os.environ if environ is None else environ
    default_spread = _fraction(env, "EXEC_MAX_SPREAD_PCT", DEFAULT_MAX_SPREAD_PCT)
    class_defaults = default_thresholds(default_spread)
    thresholds = {
        c: _fraction(env, f"EXEC_MAX_SPREAD_PCT_{c.value}", class_defaults[c]) for c in AssetClass
    }
    routing = RoutingPolicy(
        thresholds=thresholds,
        max_quote_age_s=env_positive(env, "EXEC_MAX_QUOTE_AGE_S", DEFAULT_MAX_QUOTE_AGE_S),
        fail_mode=_fail_mode(env, "EXEC_ROUTING_FAIL_MODE", FailMode.OPEN),
    )
    return EngineConfig(
        smart_routing_enabled=env_bool(env, "EXEC_SMART_ROUTING_ENABLED", False),
        routing=routing,
        dry_run=env_bool(env, "EXEC_DRY_RUN", False),
        uid=_name(env, "EXEC_UID", "local-user"),
        tenant_id=_name(env, "EXEC_TENANT_ID", "local-tenant"),
        paper_starting_cash=env_positive(env, "EXEC_PAPER_STARTING_CASH", 1_000_000.0),
        simulated_quotes=_simulated_quotes(env, "EXEC_SIM_QUOTES"),
        simulated_halted=_symbols(env, "EXEC_SIM_HALTED"),
    )


def env_text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return None if value is None or value.strip() == "" else value.strip()


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env_text(env, name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean (use true or false)")


def _number(env: Mapping[str, str], name: str) -> float | None:
    value = env_text(env, name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a number") from None
    if not math.isfinite(number):
        raise ConfigError(f"{name}={value!r} is not a finite number")
    return number


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    number = _number(env, name)
    if number is None:
        return default
    if not 0 <= number <= 1:
        raise ConfigError(
            f"{name}={number:g} must be a fraction between 0 and 1 (0.001 means 0.1%)"
        )
    return number


def env_positive(env: Mapping[str, str], name: str, default: float) -> float:
    number = _number(env, name)
    if number is None:
        return default
    if number <= 0:
        raise ConfigError(f"{name}={number:g} must be greater than 0")
    return number


def _fail_mode(env: Mapping[str, str], name: str, default: FailMode) -> FailMode:
    value = env_text(env, name)
    if value is None:
        return default
    try:
        return FailMode(value.lower())
    except ValueError:
        allowed = " or ".join(mode.value for mode in FailMode)
        raise ConfigError(f"{name}={value!r} must be {allowed}") from None


def _name(env: Mapping[str, str], name: str, default: str) -> str:
    value = env_text(env, name)
    if value is None:
        return default
    if "/" in value or len(value) > 128:
        raise ConfigError(f"{name}={value!r} must be at most 128 characters with no '/'")
    return value


def _simulated_quotes(env: Mapping[str, str], name: str) -> dict[str, tuple[float, float]]:
    """SYMBOL=BID:ASK pairs separated by ';', e.g. 'BTC/USD=49950:50050;AAPL=189.9:190.1'."""
    value = env_text(env, name)
    if value is None:
        return {}
    quotes = {}
    for entry in filter(None, (part.strip() for part in value.split(";"))):
        symbol, _, touch = entry.partition("=")
        bid_text, _, ask_text = touch.partition(":")
        try:
            canonical = parse_symbol(symbol).symbol
            bid, ask = float(bid_text), float(ask_text)
        except ValueError as exc:
            raise ConfigError(f"{name}: {entry!r} is not SYMBOL=BID:ASK ({exc})") from None
        if not (math.isfinite(bid) and math.isfinite(ask) and 0 < bid <= ask):
            raise ConfigError(f"{name}: {entry!r} needs 0 < bid <= ask")
        quotes[canonical] = (bid, ask)
    return quotes


def _symbols(env: Mapping[str, str], name: str) -> frozenset[str]:
    value = env_text(env, name)
    if value is None:
        return frozenset()
    try:
        return frozenset(parse_symbol(s.strip()).symbol for s in value.split(",") if s.strip())
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None
