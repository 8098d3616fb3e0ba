"""The oandapyV20 client for the settings, and a request sent once more after a 429."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oandapyV20 import API, V20Error
from oandapyV20 import oandapyV20 as v20

from venues.settings import OandaSettings

RATE_LIMIT_WAIT_S = 0.5


def oanda_api(settings: OandaSettings, timeout_s: float) -> API:
    """The client; with `api_url` set (a proxy, a test server) it is registered as its own
    environment, which is how oandapyV20 resolves base URLs."""
    environment = "live" if settings.live else "practice"
    if settings.api_url:
        environment = f"url:{settings.api_url}"
        v20.TRADING_ENVIRONMENTS[environment] = {"api": settings.api_url,
                                                 "stream": settings.api_url}  # fmt: skip
    return API(settings.access_token, environment=environment,
               request_params={"timeout": timeout_s})  # fmt: skip


def rate_limited_request(api: API, endpoint: Any, sleep: Callable[[float], None]) -> dict[str, Any]:
    """One request, once more after a 429."""
    try:
        return api.request(endpoint)
    except V20Error as exc:
        if exc.code != 429:
            raise
    sleep(RATE_LIMIT_WAIT_S)
    return api.request(endpoint)
