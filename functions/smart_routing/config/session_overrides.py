"""The session table from the environment: the built-in table with every EXEC_SESSION_*
override applied."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from smart_routing.config.environment import env_decimal, env_fraction, env_text
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import ConfigError
from smart_routing.market.sessions import SESSION_CLASSES, Session, SessionTable

_SESSION_PREFIX = "EXEC_SESSION_"
_MULTIPLIER = "EXEC_SESSION_MULTIPLIER_"
_SESSION_MAX = "EXEC_SESSION_MAX_SPREAD_PCT_"
_MAX_MULTIPLIER = Decimal(100)
_SESSION_MINUTES = ("EXEC_SESSION_OPEN_MINUTES", "EXEC_SESSION_CLOSE_MINUTES")


def session_table(env: Mapping[str, str]) -> SessionTable:
    """The built-in session table with every EXEC_SESSION_* override applied: per session
    (all its classes) first, then per session and class; an absolute threshold, where one is
    set, wins over the multiplier. Any other EXEC_SESSION_* name is a typo and an error."""
    table = SessionTable()
    rules = {s: dict(by_class) for s, by_class in table.rules.items()}
    targets = []
    for name in env:
        if not name.startswith(_SESSION_PREFIX) or name in _SESSION_MINUTES:
            continue
        if env_text(env, name) is not None:
            session, classes = _session_target(name)
            per_class = len(classes) < len(SESSION_CLASSES[session])
            targets.append((per_class, name, session, classes))
    # A session's setting before its per-class ones, which refine it.
    for _, name, session, classes in sorted(targets):
        for asset_class in classes:
            rule = rules[session][asset_class]
            if name.startswith(_MULTIPLIER):
                number = env_decimal(env, name, Decimal(1), allow_zero=True)
                if number > _MAX_MULTIPLIER:
                    raise ConfigError(f"{name}={number} must be at most {_MAX_MULTIPLIER}")
                rule = rule.model_copy(update={"multiplier": number})
            else:
                rule = rule.model_copy(
                    update={"max_spread_pct": env_fraction(env, name), "source": name}
                )
            rules[session][asset_class] = rule
    return SessionTable(
        rules=rules,
        open_minutes=_minutes(env, "EXEC_SESSION_OPEN_MINUTES", table.open_minutes),
        close_minutes=_minutes(env, "EXEC_SESSION_CLOSE_MINUTES", table.close_minutes),
    )


def _session_target(name: str) -> tuple[Session, tuple[AssetClass, ...]]:
    """The session and classes an EXEC_SESSION_MULTIPLIER_* or EXEC_SESSION_MAX_SPREAD_PCT_*
    name sets, e.g. EXEC_SESSION_MULTIPLIER_US_OPEN_EQUITY."""
    for prefix in (_MULTIPLIER, _SESSION_MAX):
        if not name.startswith(prefix):
            continue
        rest = name[len(prefix) :]
        for session in sorted(Session, key=lambda s: -len(s.value)):
            key = session.value.upper()
            if rest == key:
                return session, SESSION_CLASSES[session]
            if rest.startswith(key + "_"):
                class_name = rest[len(key) + 1 :]
                allowed = SESSION_CLASSES[session]
                if class_name not in {c.value for c in allowed}:
                    raise ConfigError(
                        f"{name}: {session.value} applies to "
                        f"{', '.join(c.value for c in allowed)}, not {class_name!r}"
                    )
                return session, (AssetClass(class_name),)
        sessions = ", ".join(s.value.upper() for s in Session)
        raise ConfigError(f"{name}: unknown session {rest!r} (one of {sessions})")
    raise ConfigError(
        f"{name} is not a setting: use EXEC_SESSION_MULTIPLIER_<SESSION>[_<CLASS>], "
        "EXEC_SESSION_MAX_SPREAD_PCT_<SESSION>[_<CLASS>], EXEC_SESSION_OPEN_MINUTES or "
        "EXEC_SESSION_CLOSE_MINUTES"
    )


def _minutes(env: Mapping[str, str], name: str, default: int) -> int:
    value = env_text(env, name)
    if value is None:
        return default
    if not value.isdigit() or int(value) > 120:
        raise ConfigError(f"{name}={value!r} must be a whole number of minutes from 0 to 120")
    return int(value)
