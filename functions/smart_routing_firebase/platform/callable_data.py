"""A callable's `data`, parsed into the callable's pydantic model at the edge: invalid-argument
naming the first field at fault, in the words of the model's own check."""

from __future__ import annotations

from typing import Any, TypeVar

from firebase_functions.https_fn import FunctionsErrorCode, HttpsError
from pydantic import BaseModel, ValidationError

Payload = TypeVar("Payload", bound=BaseModel)


def payload_of(model: type[Payload], data: Any) -> Payload:
    """`data` as `model`, or invalid-argument: "field: why" (a check of the whole model says
    just why; a validator's ValueError in its own words, not pydantic's "Value error, ...")."""
    if not isinstance(data, dict):
        raise HttpsError(FunctionsErrorCode.INVALID_ARGUMENT, "data must be an object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        cause = error.get("ctx", {}).get("error")
        message = (
            "unknown field" if error["type"] == "extra_forbidden" else str(cause or error["msg"])
        )
        raise HttpsError(
            FunctionsErrorCode.INVALID_ARGUMENT, f"{field}: {message}" if field else message
        ) from exc
