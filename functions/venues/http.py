"""What the venue adapters share: request timeouts and reading a venue's error."""

from __future__ import annotations

import functools
import re
from typing import Any

import requests

from smart_routing.logs import redact


def with_timeout(session: requests.Session, timeout_s: float) -> None:
    """Give every request of a client's session a timeout. alpaca-py sets none, so a hung venue
    would otherwise hold the function until the platform kills it."""
    if not getattr(session.request, "_has_timeout", False):
        request = functools.partial(session.request, timeout=timeout_s)
        request._has_timeout = True  # type: ignore[attr-defined]
        session.request = request  # type: ignore[method-assign]


def retry_after_s(response: Any, default: float = 1.0) -> float:
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


# A request's path in an error's text ("Max retries exceeded with url: /v1/trading/accounts/
# {account id}/orders"): it names accounts, and the text reaches the tenant's users (a venue
# breaker's reason) and callers.
_URL_PATH = re.compile(r"(url: |https?://[^/\s]+)/[^\s)'\"]*")


def describe(error: BaseException) -> str:
    """A one-line description of a venue error, with any secret redacted (before it is cut,
    so no secret's start survives) and request paths left out."""
    text = _URL_PATH.sub(r"\1/…", " ".join(str(error).split()))
    return redact(f"{type(error).__name__}: {text}")[:320]


# A read timeout or a dropped connection after sending: the venue may have the order.
MAYBE_SENT = (requests.ReadTimeout, requests.exceptions.ChunkedEncodingError)
# Nothing reached the venue.
NOT_SENT = (requests.ConnectTimeout, requests.ConnectionError)
