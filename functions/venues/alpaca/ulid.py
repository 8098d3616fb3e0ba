"""ULIDs (github.com/ulid/spec): 48 bits of Unix milliseconds then 80 bits, in Crockford's
base32, so that they sort as their times do. Alpaca's activity events are named by one."""

from __future__ import annotations

import secrets
from datetime import datetime

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 26


def ulid_at(moment: datetime, entropy: int | None = None) -> str:
    """The ULID of `moment` (to the millisecond); random entropy unless one is given. With the
    largest entropy it is the last ULID of that millisecond: a bound that includes it."""
    millis = int(moment.timestamp() * 1000)
    tail = secrets.randbits(80) if entropy is None else entropy
    value = (millis << 80) | tail
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(LENGTH)))


def last_ulid_at(moment: datetime) -> str:
    return ulid_at(moment, (1 << 80) - 1)


def is_ulid(text: object) -> bool:
    return (
        isinstance(text, str)
        and len(text) == LENGTH
        and text[0] in "01234567"
        and all(c in ALPHABET for c in text)
    )
