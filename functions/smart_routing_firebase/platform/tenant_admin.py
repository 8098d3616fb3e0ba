"""The caller of an admin callable: signed in, with the token claims of a tenant's admin."""

from __future__ import annotations

from firebase_functions.https_fn import CallableRequest, FunctionsErrorCode, HttpsError

from smart_routing.domain.identifiers import InvalidIdentifier, check_id


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


def check_user_of_tenant(uid: str, tenant_id: str) -> None:
    """Refuse what an admin names by a uid that is not one of their tenant's users: not-found
    for no such user, permission-denied for another tenant's (its token's tenant_id claim)."""
    from firebase_admin import auth

    from smart_routing_firebase.platform.app import initialize

    try:
        user = auth.get_user(uid, app=initialize())
    except auth.UserNotFoundError as exc:
        raise HttpsError(FunctionsErrorCode.NOT_FOUND, f"uid: no user {uid}") from exc
    if (user.custom_claims or {}).get("tenant_id") != tenant_id:
        raise HttpsError(
            FunctionsErrorCode.PERMISSION_DENIED, f"uid: {uid} is not a user of your tenant"
        )
