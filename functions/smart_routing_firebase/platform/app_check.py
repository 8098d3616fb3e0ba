"""App Check on the callables, switched by a deploy-time param.

firebase_functions 0.6.0's `on_call(enforce_app_check=...)` takes a plain bool, read once when
the decorator runs (as main.py loads, before the CLI has resolved any param): a BoolParam there
is an object, always truthy. So the SDK is left to verify the token (it sets `request.app` only
for a valid one, and leaves it None for a missing or rejected one) and this wrapper refuses a
request without a verified app when the param is true, before the handler runs. The refusal is
the SDK's own: `unauthenticated`, HTTP 401.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from firebase_functions.https_fn import CallableRequest, FunctionsErrorCode, HttpsError
from firebase_functions.params import Expression

from smart_routing import logs

Result = TypeVar("Result")
APP_NOT_VERIFIED = "App Check: this app could not be verified (no valid App Check token)"


def app_check_required(
    enforce: Expression[bool],
) -> Callable[[Callable[[CallableRequest], Result]], Callable[[CallableRequest], Result]]:
    """Wrap a callable's handler (under `https_fn.on_call`) so that, while `enforce` is true, a
    request whose App Check token is missing or invalid is refused and the handler never runs.
    `enforce` is read per request: its value is the deployed environment's."""

    def wrap(handler: Callable[[CallableRequest], Result]) -> Callable[[CallableRequest], Result]:
        @functools.wraps(handler)
        def checked(request: CallableRequest) -> Result:
            if enforce.value and request.app is None:
                logs.log_event(
                    logs.LogEvent.APP_CHECK_REFUSED,
                    severity="WARNING",
                    function=handler.__name__,
                    token_sent="X-Firebase-AppCheck" in request.raw_request.headers,
                )
                raise HttpsError(FunctionsErrorCode.UNAUTHENTICATED, APP_NOT_VERIFIED)
            return handler(request)

        return checked

    return wrap
