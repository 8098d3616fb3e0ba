"""Malformed callable requests get invalid-argument with a readable message, never INTERNAL.

firebase_functions 0.6.0's on_call parses the body itself, inside a catch-all that turns any
exception other than HttpsError into 500 INTERNAL: Flask's `request.json` raises BadRequest
for a body that is not JSON, not UTF-8 or empty, json.loads raises RecursionError past about
a thousand levels of nesting, and a top-level list, number or string can fail its `"data" in`
and `.keys()` checks. Its own 400s all say just "Bad Request". `reject_malformed` checks the
raw body first and answers each of those itself, in the callable protocol's error shape,
before anything (token checks included) runs.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from itertools import accumulate
from typing import Any

from flask import Request, Response
from flask_cors import cross_origin  # what on_call uses; https_fn has already loaded it

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 64  # levels of arrays and objects, the {"data": ...} envelope included

Handler = Callable[[Request], Any]

_JSON_WHITESPACE = " \t\n\r"
# A JSON string (brackets inside one do not nest), unrolled so the regex never backtracks.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "a boolean", type(None): "null"}  # fmt: skip


class MalformedRequest(ValueError):
    """The request cannot be a callable call; the message says why, for the caller."""

    def __init__(self, message: str, http_status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status


def reject_malformed(handler: Handler) -> Handler:
    """Wrap an `https_fn.on_call` function so malformed requests never reach it.

    functools.wraps copies the wrapped function's __dict__, so `__firebase_endpoint__` (what
    the SDK's manifest discovery reads) stays on the wrapper along with its name.
    """

    @cross_origin(methods="POST", origins="*")  # as on_call without cors=, so browsers read it
    def reject(error: MalformedRequest) -> Response:
        return error_response(error)

    @functools.wraps(handler)
    def guarded(request: Request) -> Any:
        if request.method == "OPTIONS":  # the CORS preflight: on_call answers it
            return handler(request)
        try:
            check_request(request)
        except MalformedRequest as error:
            return reject(error)
        return handler(request)

    return guarded


def error_response(error: MalformedRequest) -> Response:
    body = {"error": {"status": "INVALID_ARGUMENT", "message": error.message}}
    return Response(json.dumps(body), error.http_status, mimetype="application/json")


def check_request(
    request: Request, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_DEPTH
) -> None:
    """Raise MalformedRequest unless this is a POST of a JSON object {"data": ...}."""
    if request.method != "POST":
        raise MalformedRequest(f"a callable function takes POST requests, not {request.method}")
    check_content_type(request.headers.get("Content-Type"))
    check_body(read_body(request, max_bytes), max_depth)


def check_content_type(content_type: str | None) -> None:
    """application/json, with or without parameters such as charset (as on_call accepts)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        got = repr(content_type[:80]) if content_type else "none"
        raise MalformedRequest(f"the Content-Type must be application/json, not {got}")


def read_body(request: Request, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The body, cached for on_call to read again; refused unread when it declares too much."""
    too_large = MalformedRequest(f"the request body is over the limit of {max_bytes} bytes", 413)
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    body = request.get_data(cache=True)
    if len(body) > max_bytes:
        raise too_large
    return body


def check_body(body: bytes, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """The parsed body when it is UTF-8 JSON of the callable protocol's shape."""
    text = decode(body)
    if not text.strip(_JSON_WHITESPACE):
        raise MalformedRequest('the request body is empty; send a JSON object {"data": ...}')
    if nesting_exceeds(body, max_depth):
        raise MalformedRequest(f"the request body nests more than {max_depth} levels deep")
    return check_envelope(parse(text))


def decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")  # a BOM is allowed, as on_call's own parse allows it
    except UnicodeDecodeError as exc:
        raise MalformedRequest(f"the request body is not valid UTF-8 (byte {exc.start})") from exc


def nesting_exceeds(body: bytes, max_depth: int) -> bool:
    """Whether arrays and objects nest deeper than max_depth, found without recursing (on
    UTF-8 bytes: no byte of a multi-byte character is ASCII)."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > max_depth


def parse(text: str) -> Any:
    try:
        value = json.loads(text)
    except RecursionError as exc:  # nesting_exceeds should have caught it first
        raise MalformedRequest("the request body nests too deeply") from exc
    except json.JSONDecodeError as exc:
        raise MalformedRequest(f"the request body is not valid JSON: {exc}") from exc
    except ValueError as exc:  # an integer past Python's digit limit for int()
        raise MalformedRequest("the request body has an integer with too many digits") from exc
    check_strict(value)
    return value


def check_strict(value: Any) -> None:
    """What json.loads lets through but JSON forbids: NaN, Infinity and numbers too large for
    a float (which become infinity), and lone surrogate escapes (no UTF-8 can carry them)."""
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedRequest("the request body has a string with a lone surrogate") from exc
    except ValueError as exc:
        raise MalformedRequest("the request body has NaN, Infinity or a number too large") from exc


def check_envelope(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        kind = _JSON_TYPES.get(type(body), type(body).__name__)
        raise MalformedRequest(f'the request body must be an object {{"data": ...}}, not {kind}')
    if "data" not in body:
        raise MalformedRequest('the request body must have a "data" field')
    if len(body) > 1:
        raise MalformedRequest('the request body must have no field besides "data"')
    return body
