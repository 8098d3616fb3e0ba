"""alpaca-py's clients with this package's timeout, a 429 retried as Retry-After asks, and their
answers read as alpaca-py's models."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from alpaca.common.exceptions import APIError
from alpaca.common.rest import RESTClient
from alpaca.common.types import RawData
from alpaca.trading.client import TradingClient

from venues.http import retry_after_s, with_timeout
from venues.settings import AlpacaApi, AlpacaSettings

T = TypeVar("T")
MAX_RATE_LIMIT_WAIT_S = 2.0


def trading_client(settings: AlpacaSettings, timeout_s: float) -> TradingClient:
    """alpaca-py's trading client for these settings, with this package's timeout and retries."""
    if settings.api is AlpacaApi.BROKER:
        raise ValueError("the Trading API needs the Trading API keys, not the broker keys")
    client = TradingClient(
        settings.api_key, settings.secret_key, paper=not settings.live,
        url_override=settings.trading_url,
    )  # fmt: skip
    prepare(client, timeout_s)
    return client


def prepare(client: RESTClient, timeout_s: float) -> None:
    with_timeout(client._session, timeout_s)
    # alpaca-py retries 429 and 504 three times with a fixed 3 s sleep, ignoring Retry-After,
    # and its data clients take no setting for it: the adapters retry with `rate_limited`.
    client._retry_codes = []


def rate_limited(call: Callable[[], T], sleep: Callable[[float], None] = time.sleep) -> T:
    """Call once more after a 429, waiting what Retry-After asks (within a bound)."""
    try:
        return call()
    except APIError as exc:
        if exc.status_code != 429:
            raise
        wait = retry_after_s(exc.response)
        if wait > MAX_RATE_LIMIT_WAIT_S:
            raise
        sleep(wait)
    return call()


def model(answer: T | RawData) -> T:
    """alpaca-py answers with its models unless a client is made with raw_data (ours never
    are): the answer narrowed to the model."""
    assert not isinstance(answer, dict), "an alpaca-py client made with raw_data"
    return answer
