"""Reading one setting from the environment: unset or blank is the default; a bad value is a
ConfigError naming the variable and the value."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal

from smart_routing.domain.errors import ConfigError
from smart_routing.domain.money import to_decimal

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


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


def env_positive(env: Mapping[str, str], name: str, default: float) -> float:
    number = _number(env, name)
    if number is None:
        return default
    if number <= 0:
        raise ConfigError(f"{name}={number:g} must be greater than 0")
    return number


def env_decimal(
    env: Mapping[str, str], name: str, default: Decimal, allow_zero: bool = False
) -> Decimal:
    value = env_text(env, name)
    if value is None:
        return default
    try:
        number = to_decimal(value, name)
    except ValueError as exc:
        raise ConfigError(f"{name}={value!r} is not a finite number") from exc
    if number < 0 or (number == 0 and not allow_zero):
        bound = "at least 0" if allow_zero else "greater than 0"
        raise ConfigError(f"{name}={value!r} must be {bound}")
    return number


def env_fraction(env: Mapping[str, str], name: str) -> Decimal | None:
    value = env_text(env, name)
    if value is None:
        return None
    try:
        number = to_decimal(value, name)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a finite number") from None
    if not 0 <= number <= 1:
        raise ConfigError(f"{name}={value} must be a fraction between 0 and 1 (0.001 means 0.1%)")
    return number


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
