"""App Check on the callables, through a real firebase_functions on_call in Flask (as the
functions framework calls it): with EXEC_ENFORCE_APP_CHECK true, a request with no App Check
token or one that does not verify is refused 401 and the handler never runs; false, it runs.
The emulator tests show the same on the deployed functions (tests/emulator_app_check/ and
tests/emulator/test_app_check_off.py)."""

from __future__ import annotations

import base64
import json

import pytest
from firebase_functions import https_fn, params
from flask import Flask, request

from smart_routing_firebase.platform.app_check import APP_NOT_VERIFIED, app_check_required

ENFORCE = params.BoolParam("TEST_ENFORCE_APP_CHECK", default=True)
CALLS: list[object] = []


@https_fn.on_call()
@app_check_required(ENFORCE)
def guarded(req: https_fn.CallableRequest) -> dict:
    CALLS.append(req.data)
    return {"ran": True}


def forged_token() -> str:
    """A JWT in App Check's shape (RS256, a key id) whose signature is no Google key's."""

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    header = part({"alg": "RS256", "typ": "JWT", "kid": "forged"})
    claims = part({"sub": "1:123:web:abc", "aud": ["projects/123"], "exp": 4102444800})
    return f"{header}.{claims}.c2lnbmF0dXJl"


TOKENS = {"no token": None, "garbage": "not-a-token", "forged": forged_token()}


@pytest.fixture
def client():
    CALLS.clear()
    flask_app = Flask(__name__)
    flask_app.add_url_rule("/", "guarded", lambda: guarded(request), methods=["POST"])
    return flask_app.test_client()


def post(client, token: str | None):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["X-Firebase-AppCheck"] = token
    return client.post("/", data=b'{"data": {"order": 1}}', headers=headers)


@pytest.mark.parametrize("token", TOKENS.values(), ids=TOKENS.keys())
def test_enforced_a_call_without_a_valid_token_is_refused_and_nothing_runs(
    client, monkeypatch, log_records, token
) -> None:
    monkeypatch.setenv("TEST_ENFORCE_APP_CHECK", "true")
    response = post(client, token)
    assert response.status_code == 401
    assert response.get_json() == {
        "error": {"status": "UNAUTHENTICATED", "message": APP_NOT_VERIFIED}
    }
    assert CALLS == []
    (refused,) = [r for r in log_records() if r["event"] == "exec.app_check_refused"]
    assert (refused["function"], refused["token_sent"]) == ("guarded", token is not None)


def test_enforced_by_default_when_the_param_is_not_set(client, monkeypatch) -> None:
    monkeypatch.delenv("TEST_ENFORCE_APP_CHECK", raising=False)
    assert post(client, None).status_code == 401 and CALLS == []


@pytest.mark.parametrize("token", TOKENS.values(), ids=TOKENS.keys())
def test_not_enforced_every_call_runs(client, monkeypatch, token) -> None:
    monkeypatch.setenv("TEST_ENFORCE_APP_CHECK", "false")
    response = post(client, token)
    assert response.status_code == 200 and response.get_json() == {"result": {"ran": True}}
    assert CALLS == [{"order": 1}]


def test_the_wrapped_function_keeps_its_name_for_the_manifest() -> None:
    assert guarded.__name__ == "guarded"
    assert guarded.__firebase_endpoint__.entryPoint == "guarded"
