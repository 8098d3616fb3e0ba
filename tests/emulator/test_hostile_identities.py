"""Hostile accounts are refused before anything reaches a venue or Firestore."""

from __future__ import annotations

import base64
import contextlib
import json

import pytest
import requests
from google.cloud.firestore_v1.base_query import FieldFilter

from tools.emulator_client import API_KEY, AUTH_URL, call, new_user

HOSTILE_TENANTS = {
    "dot-dot": "..",
    "dot": ".",
    "reserved": "__x__",
    "space": "a b",
    "newline": "a\nb",
    "129-chars": "t" * 129,
    "slash": "a/b",
}
ORDER = {"strategy_id": "manual", "symbol": "AAPL", "side": "buy", "qty": 1}


def written_for(db, uid: str) -> dict[str, list[str]]:
    """Every document written anywhere for this user: ledger trades, claims, history, lots."""
    by_uid = FieldFilter("uid", "==", uid)
    queries = {
        "ledger_trades": db.collection_group("ledger_trades").where(filter=by_uid),
        "executions": db.collection_group("executions").where(filter=by_uid),
        "history": db.collection(f"users/{uid}/portfolio/history/trades"),
        "lots": db.collection(f"users/{uid}/portfolio/lots/symbols"),
    }
    return {name: [doc.id for doc in query.stream()] for name, query in queries.items()}


NOTHING = {"ledger_trades": [], "executions": [], "history": [], "lots": []}


@pytest.mark.parametrize("tenant_id", HOSTILE_TENANTS.values(), ids=HOSTILE_TENANTS.keys())
def test_a_hostile_tenant_claim_is_refused_and_nothing_is_written(db, tenant_id):
    user = new_user(tenant_id)
    assert _claims(user.id_token)["tenant_id"] == tenant_id  # the token really carries it

    outcome = call("execute_strategy", ORDER | {"idempotency_key": "k1"}, user.id_token)

    assert outcome.code == "FAILED_PRECONDITION", outcome
    assert outcome.error["message"].startswith("this account's tenant_id claim must")
    assert written_for(db, user.uid) == NOTHING


@pytest.mark.parametrize("uid", ["x/y", "..", "__u__", "u v"])
def test_a_hostile_uid_is_refused_and_nothing_is_written(db, tenant_id, uid):
    id_token = _sign_in_as(uid, tenant_id)

    outcome = call("execute_strategy", ORDER | {"idempotency_key": "k1"}, id_token)

    assert outcome.code == "FAILED_PRECONDITION", outcome
    assert outcome.error["message"].startswith("this account's uid must")
    ledger = db.collection(f"tenants/{tenant_id}/ledger_trades").stream()
    claims = db.collection(f"tenants/{tenant_id}/executions").stream()
    assert [d.id for d in ledger] == [] and [d.id for d in claims] == []


def _sign_in_as(uid: str, tenant_id: str) -> str:
    """An ID token for a user with this exact uid: the Admin SDK creates the user, the auth
    emulator exchanges a custom token for its ID token."""
    from firebase_admin import auth

    with contextlib.suppress(auth.UserNotFoundError):
        auth.delete_user(uid)
    auth.create_user(uid=uid)
    auth.set_custom_user_claims(uid, {"tenant_id": tenant_id})
    custom_token = auth.create_custom_token(uid).decode()
    response = requests.post(
        f"{AUTH_URL}/accounts:signInWithCustomToken?key={API_KEY}",
        json={"token": custom_token, "returnSecureToken": True},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["idToken"]


def _claims(id_token: str) -> dict:
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
