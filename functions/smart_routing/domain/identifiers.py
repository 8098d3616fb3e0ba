"""Which strings may be an id in a document path: a tenant, a user, a trade, a symbol key.

The rule, stricter than Firestore's own (which allows up to 1,500 bytes and any character
but `/`): an id is 1 to 128 characters, every one printable and none whitespace (no space,
tab, newline or other control or separator character, no lone surrogate), with no `/`; it
is not `.` or `..`, and does not both start and end with `__` (Firestore reserves
`__.*__`). 128 is Firebase Auth's own limit on a uid.

Ids come from tokens, configs and documents; each is checked before it becomes a path, so
a hostile id is refused before anything is placed or written.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

MAX_ID_LENGTH = 128
_RESERVED = re.compile(r"__.*__", re.DOTALL)
_WHITESPACE = re.compile(r"\s")  # str.isspace()'s characters


class InvalidIdentifier(ValueError):
    """A string that may not be an id in a document path; the message names the problem."""


def id_problem(value: object) -> str | None:
    """Why `value` may not be a document id, or None when it may."""
    if not isinstance(value, str):
        return f"must be a string, got {type(value).__name__}"
    if not value:
        return "must not be empty"
    if len(value) > MAX_ID_LENGTH:
        return f"must be at most {MAX_ID_LENGTH} characters, got {len(value)}"
    if value in (".", ".."):
        return f"must not be {value!r}"
    if _RESERVED.fullmatch(value):
        return "must not both start and end with '__' (reserved by Firestore)"
    if "/" in value:
        return "must not contain '/'"
    if not value.isprintable() or _WHITESPACE.search(value):
        return "must not contain whitespace or control characters"
    return None


def check_id(value: object, what: str) -> str:
    """`value` when it may be a document id; else InvalidIdentifier naming `what`."""
    problem = id_problem(value)
    if problem is not None:
        raise InvalidIdentifier(f"{what} {problem}")
    assert isinstance(value, str)  # id_problem refuses anything else
    return value


def _valid(value: str) -> str:
    problem = id_problem(value)
    if problem is not None:
        raise ValueError(f"not a valid id: it {problem}")
    return value


# For models: a string field that must be a valid document id.
DocumentId = Annotated[str, AfterValidator(_valid)]


def symbol_key(symbol: str) -> str:
    """A document id for a symbol ('BTC/USD' has a slash, which a document id cannot)."""
    return symbol.replace("/", "-")
