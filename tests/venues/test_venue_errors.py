"""How a venue's error is told (venues.http.describe): its text reaches callers, logs and the
tenant's users (a venue breaker's reason), so it names no account and leaks no secret."""

from __future__ import annotations

import requests

from smart_routing import logs
from venues.http import describe


def test_a_request_path_naming_an_account_is_left_out():
    account = "6f1d8a52-3c2e-4b8f-9f3a-2d7c1e0b9a41"
    error = requests.ConnectionError(
        "HTTPSConnectionPool(host='broker-api.sandbox.alpaca.markets', port=443): Max retries "
        f"exceeded with url: /v1/trading/accounts/{account}/orders (Caused by timeout)"
    )
    told = describe(error)
    assert account not in told
    assert told.startswith("ConnectionError: HTTPSConnectionPool(")
    assert "with url: /… (Caused by timeout)" in told
    full_url = describe(
        RuntimeError(f"GET https://api-fxpractice.oanda.com/v3/accounts/{account}/x")
    )
    assert account not in full_url and "https://api-fxpractice.oanda.com/…" in full_url


def test_a_secret_cut_by_the_length_limit_is_redacted_before_it_is_cut():
    secret = "SECRETSECRETSECRETSECRET"
    logs.register_secret(secret)
    told = describe(RuntimeError("x" * 290 + secret))
    assert "SECRET" not in told and told.endswith(logs.REDACTED)
