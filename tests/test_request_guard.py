"""The callable's request guard: every malformed body is invalid-argument with a reason, and
never reaches the handler; a well-formed one passes through untouched. No emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from firebase_functions import https_fn
from firebase_functions.private import serving
from flask import Flask, request

from smart_routing_firebase.platform.request_guard import (
    MAX_BODY_BYTES,
    MalformedRequest,
    check_body,
    check_content_type,
    reject_malformed,
)

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"
JSON = {"Content-Type": "application/json"}


def nested(depth: int) -> bytes:
    """{"data": ...} whose arrays and objects nest `depth` levels, the envelope included."""
    return b'{"data": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


MALFORMED = {
    "not JSON": (b"not json", "not valid JSON: Expecting value: line 1 column 1"),
    "trailing garbage": (b'{"data": {}} x', "not valid JSON: Extra data"),
    "invalid UTF-8": (b'{"data": "\xff\xfe"}', "not valid UTF-8 (byte 10)"),
    "UTF-16": ('{"data": {}}'.encode("utf-16"), "not valid UTF-8"),
    "3,000 deep arrays": (nested(3000), "nests more than 64 levels deep"),
    "3,000 deep objects": (
        b'{"data": ' + b'{"a":' * 3000 + b"1" + b"}" * 3000 + b"}",
        "nests more than 64 levels deep",
    ),
    "65 deep": (nested(65), "nests more than 64 levels deep"),
    "unclosed brackets": (b"[" * 3000, "nests more than 64 levels deep"),
    "empty": (b"", "the request body is empty"),
    "whitespace": (b" \r\n\t", "the request body is empty"),
    "array": (b'[{"data": {}}]', 'must be an object {"data": ...}, not an array'),
    "array holding 'data'": (b'["data"]', "not an array"),
    "number": (b"5", "not a number"),
    "string 'data'": (b'"data"', "not a string"),
    "null": (b"null", "not null"),
    "boolean": (b"true", "not a boolean"),
    "no data": (b'{"dat": {}}', 'must have a "data" field'),
    "a field besides data": (b'{"data": {}, "auth": "x"}', 'no field besides "data"'),
    "NaN": (b'{"data": {"qty": NaN}}', "NaN, Infinity or a number too large"),
    "-Infinity": (b'{"data": -Infinity}', "NaN, Infinity or a number too large"),
    "float overflow": (b'{"data": {"qty": 1e400}}', "NaN, Infinity or a number too large"),
    "5,000-digit integer": (b'{"data": ' + b"9" * 5000 + b"}", "integer with too many digits"),
    "lone surrogate": (b'{"data": {"symbol": "\\ud800"}}', "a lone surrogate"),
    "lone surrogate key": (b'{"data": {"\\udc00": 1}}', "a lone surrogate"),
}

WELL_FORMED = {
    "object": (b'{"data": {"symbol": "AAPL", "qty": 1}}', {"symbol": "AAPL", "qty": 1}),
    "null data": (b'{"data": null}', None),
    "64 deep": (nested(64), json.loads(nested(64))["data"]),
    "brackets in strings": (b'{"data": "[[[[{{{{\\"]]"}', '[[[[{{{{"]]'),
    "UTF-8 text": ('{"data": "é€😀"}'.encode(), "é€😀"),
    "surrogate pair escape": (b'{"data": "\\ud83d\\ude00"}', "😀"),
    "byte order mark": (b'\xef\xbb\xbf{"data": 1}', 1),
}


@pytest.mark.parametrize(("body", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_body_is_refused_with_its_reason(body: bytes, message: str) -> None:
    with pytest.raises(MalformedRequest) as refused:
        check_body(body)
    assert message in refused.value.message
    assert refused.value.http_status == 400


@pytest.mark.parametrize(("body", "data"), WELL_FORMED.values(), ids=WELL_FORMED.keys())
def test_a_well_formed_body_passes(body: bytes, data: object) -> None:
    assert check_body(body) == {"data": data}


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
def test_json_content_types_pass(content_type: str) -> None:
    check_content_type(content_type)


@pytest.mark.parametrize(
    ("content_type", "got"),
    [("text/plain", "'text/plain'"), (None, "none"), ("", "none"), ("application/jsonx", "")],
)
def test_other_content_types_are_refused(content_type: str | None, got: str) -> None:
    with pytest.raises(MalformedRequest, match="Content-Type must be application/json") as err:
        check_content_type(content_type)
    assert got in err.value.message


# Through Flask, as the functions framework calls it: the guard in front of a real on_call.

CALLS: list[object] = []


@reject_malformed
@https_fn.on_call()
def sample(req: https_fn.CallableRequest) -> dict:
    CALLS.append(req.data)
    return {"echo": req.data}


@pytest.fixture
def client():
    CALLS.clear()
    flask_app = Flask(__name__)
    methods = ["GET", "POST", "OPTIONS"]  # OPTIONS listed: on_call answers it, not Flask
    flask_app.add_url_rule("/", "sample", lambda: sample(request), methods=methods)
    return flask_app.test_client()


@pytest.mark.parametrize(("body", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_on_the_wire_a_malformed_body_gets_the_callable_error_and_never_runs(
    client, body: bytes, message: str
) -> None:
    response = client.post("/", data=body, headers=JSON)
    error = response.get_json()["error"]
    assert response.status_code == 400 and set(error) == {"status", "message"}
    assert error["status"] == "INVALID_ARGUMENT" and message in error["message"]
    assert CALLS == []


@pytest.mark.parametrize(
    ("kwargs", "status", "message"),
    [
        ({"data": b'{"data": {}}', "headers": {"Content-Type": "text/plain"}}, 400, "Content-Type"),
        ({"data": b'{"data": {}}'}, 400, "Content-Type must be application/json, not none"),
        ({"data": b'{"data": "' + b"a" * MAX_BODY_BYTES + b'"}', "headers": JSON}, 413, "over"),
    ],
    ids=["wrong Content-Type", "no Content-Type", "over 1 MB"],
)
def test_on_the_wire_headers_and_size_are_checked(client, kwargs, status, message) -> None:
    response = client.post("/", **kwargs)
    assert response.status_code == status
    assert response.get_json()["error"]["status"] == "INVALID_ARGUMENT"
    assert message in response.get_json()["error"]["message"]
    assert CALLS == []


def test_a_declared_length_over_the_limit_is_refused_before_reading(client) -> None:
    declared = {"CONTENT_LENGTH": str(MAX_BODY_BYTES + 1)}
    response = client.post("/", data=b'{"data": {}}', headers=JSON, environ_overrides=declared)
    assert response.status_code == 413 and CALLS == []


def test_a_get_is_refused_with_a_reason(client) -> None:
    response = client.get("/")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == (
        "a callable function takes POST requests, not GET"
    )


@pytest.mark.parametrize(("body", "data"), WELL_FORMED.values(), ids=WELL_FORMED.keys())
def test_on_the_wire_a_well_formed_call_reaches_the_handler(client, body, data) -> None:
    response = client.post("/", data=body, headers=JSON)
    assert response.status_code == 200
    assert response.get_json() == {"result": {"echo": data}}
    assert [data] == CALLS


def test_a_refusal_carries_cors_headers_and_the_preflight_still_works(client) -> None:
    origin = {"Origin": "https://app.example"}
    refused = client.post("/", data=b"x", headers={**JSON, **origin})
    assert refused.headers["Access-Control-Allow-Origin"] == "https://app.example"
    preflight = client.options(
        "/", headers={**origin, "Access-Control-Request-Method": "POST"}
    )  # the guard hands OPTIONS to on_call, which answers it
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Methods"] == "POST"


# Discovery: the Firebase CLI reads __firebase_endpoint__ from main.py's functions.


def test_the_guard_keeps_what_discovery_reads() -> None:
    endpoint = sample.__wrapped__.__firebase_endpoint__
    assert sample.__firebase_endpoint__ is endpoint
    assert sample.__name__ == "sample"
    spec = serving.functions_as_yaml({"sample": sample})
    assert "callableTrigger: {}" in spec and "entryPoint: sample" in spec


def test_main_still_declares_execute_strategy_as_a_callable() -> None:
    code = (
        "from firebase_functions.private import serving\n"
        "functions = serving.get_functions()\n"
        "print(serving.functions_as_yaml(functions))\n"
        "print(functions['execute_strategy'].__code__.co_name)\n"
    )
    env = {  # app.initialize() only needs to see emulators configured; it connects to nothing
        **os.environ,
        "GCLOUD_PROJECT": "demo-smart-routing",
        "FIRESTORE_EMULATOR_HOST": "127.0.0.1:9",
        "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=FUNCTIONS, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    spec, code_name = done.stdout.rstrip("\n").rsplit("\n", 1)
    endpoint = spec.split("execute_strategy:", 1)[1].split("mirror_ledger_trade:", 1)[0]
    assert "callableTrigger: {}" in endpoint and "entryPoint: execute_strategy" in endpoint
    assert code_name == "guarded"  # what the CLI finds is the guard, in front of on_call
