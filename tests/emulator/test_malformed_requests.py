"""Malformed bodies POSTed to execute_strategy as raw bytes, by a signed-in user with a tenant:
each gets a 4xx in the callable protocol's error shape with a readable message, and nothing is
written. Each is made from a body that, well formed, would trade."""

from __future__ import annotations

import json

import pytest
import requests

from tools.emulator_client import FUNCTIONS_URL

URL = f"{FUNCTIONS_URL}/execute_strategy"
BUY = {"strategy_id": "manual", "symbol": "AAPL", "side": "buy", "qty": 1}
VALID = json.dumps({"data": BUY}).encode()
DEEP = b"[" * 3000 + b"]" * 3000
JSON = "application/json"

MALFORMED = {
    "not JSON": (VALID + b" and more", JSON, 400, "not valid JSON: Extra data"),
    "invalid UTF-8": (VALID.replace(b"AAPL", b"AAPL\xff"), JSON, 400, "not valid UTF-8"),
    "3,000 deep in data": (
        json.dumps({"data": {**BUY, "note": "DEEP"}}).encode().replace(b'"DEEP"', DEEP),
        JSON,
        400,
        "nests more than 64 levels deep",
    ),
    "a list": (b"[" + VALID + b"]", JSON, 400, 'must be an object {"data": ...}, not an array'),
    "a number": (b"42", JSON, 400, "not a number"),
    "empty": (b"", JSON, 400, "the request body is empty"),
    "over 1 MB": (VALID[:-1] + b" " * 2_000_000 + b"}", JSON, 413, "over the limit of 1048576"),
    "wrong Content-Type": (VALID, "text/plain", 400, "Content-Type must be application/json"),
}


def post(body: bytes, content_type: str, id_token: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {id_token}", "Content-Type": content_type}
    return requests.post(URL, data=body, headers=headers, timeout=90)


def written(db, tenant_id: str) -> list[str]:
    return [
        doc.reference.path
        for name in ("ledger_trades", "executions")
        for doc in db.collection(f"tenants/{tenant_id}/{name}").stream()
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "http_status", "message"),
    MALFORMED.values(),
    ids=MALFORMED.keys(),
)
def test_a_malformed_body_is_refused_with_a_reason_and_writes_nothing(
    db, make_user, tenant_id, body, content_type, http_status, message
):
    user = make_user(tenant_id)
    response = post(body, content_type, user.id_token)
    assert response.status_code == http_status, response.text[:500]
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert message in error["message"], error["message"]
    assert written(db, tenant_id) == []


def test_the_well_formed_body_they_are_made_from_trades(db, make_user, tenant_id):
    user = make_user(tenant_id)
    response = post(VALID, JSON, user.id_token)
    assert response.status_code == 200, response.text[:500]
    assert response.json()["result"]["status"] == "filled"
    assert len([path for path in written(db, tenant_id) if "/ledger_trades/" in path]) == 1
