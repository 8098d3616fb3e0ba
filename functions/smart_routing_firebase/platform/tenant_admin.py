"""The caller of an admin callable: signed in, with the token claims of a tenant's admin; the
user it acts on, one of the tenant's; and its data, checked against the callable's model."""

from __future__ import annotations

import uuid

from firebase_admin import auth
from firebase_admin.exceptions import FirebaseError
from firebase_functions.https_fn import CallableRequest, FunctionsErrorCode, HttpsError

from smart_routing.domain.identifiers import InvalidIdentifier, check_id
from smart_routing_firebase.platform.app import initialize


def tenant_admin(request: CallableRequest, action: str, action_by_admin: str) -> tuple[str, str]:
    """(uid, tenant_id) of the caller, who must be an admin of a tenant (token claims
    `tenant_id` and `role` "admin"). `action` and `action_by_admin` word the refusals: "sign in
    to {action}", "only the tenant's admin {action_by_admin}"."""
    if request.auth is None or not request.auth.uid:
        raise HttpsError(FunctionsErrorCode.UNAUTHENTICATED, f"sign in to {action}")
    token = request.auth.token or {}
    tenant_id = token.get("tenant_id")
    if token.get("role") != "admin" or not isinstance(tenant_id, str) or not tenant_id:
        raise HttpsError(
            FunctionsErrorCode.PERMISSION_DENIED, f"only the tenant's admin {action_by_admin}"
        )
    try:
        return check_id(request.auth.uid, "uid"), check_id(tenant_id, "tenant_id")
    except InvalidIdentifier as exc:
        raise HttpsError(FunctionsErrorCode.PERMISSION_DENIED, str(exc)) from exc


def tenant_user(uid: str, tenant_id: str, missing_ok: bool = False) -> None:
    """The user must be one of the tenant's (token claim `tenant_id`): else permission-denied,
    or not-found when Auth has no such user (unless `missing_ok`: a deleted user's documents
    under the tenant are still the tenant's)."""
    try:
        user = auth.get_user(uid, app=initialize())
    except auth.UserNotFoundError as exc:
        if missing_ok:
            return
        raise HttpsError(FunctionsErrorCode.NOT_FOUND, f"uid: no user {uid}") from exc
    except FirebaseError as exc:  # Auth could not be asked: nothing was done, try again
        raise HttpsError(
            FunctionsErrorCode.UNAVAILABLE, f"uid: the user could not be looked up ({exc.code})"
        ) from exc
    if (user.custom_claims or {}).get("tenant_id") != tenant_id:
        raise HttpsError(
            FunctionsErrorCode.PERMISSION_DENIED, f"uid: {uid} is not a user of your tenant"
        )


def account_uuid(text: str) -> str:
    """An account id as Alpaca writes it (a UUID), else invalid-argument."""
    try:
        return str(uuid.UUID(text))
    except ValueError as exc:
        raise HttpsError(FunctionsErrorCode.INVALID_ARGUMENT,
                         f"account_id: {text!r} is not a UUID") from exc  # fmt: skip


def checked_uid(uid: str) -> str:
    try:
        return check_id(uid, "uid")
    except InvalidIdentifier as exc:
        raise HttpsError(FunctionsErrorCode.INVALID_ARGUMENT, str(exc)) from exc
