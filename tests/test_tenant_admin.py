"""The user an admin callable acts on: one of the tenant's, and a clear answer when Auth
cannot say (no emulator: Auth is the collaborator here, answering as firebase-admin does)."""

from __future__ import annotations

import pytest
from firebase_admin import auth
from firebase_admin.exceptions import UNAVAILABLE, FirebaseError
from firebase_functions.https_fn import FunctionsErrorCode, HttpsError

from smart_routing_firebase.platform import tenant_admin


def test_auth_that_cannot_be_asked_is_unavailable_not_internal(monkeypatch):
    def down(uid, app=None):
        raise FirebaseError(UNAVAILABLE, "backend unavailable")

    monkeypatch.setattr(tenant_admin, "initialize", lambda: None)
    monkeypatch.setattr(auth, "get_user", down)
    with pytest.raises(HttpsError) as refused:
        tenant_admin.tenant_user("u-1", "t-1")
    assert refused.value.code is FunctionsErrorCode.UNAVAILABLE
    assert refused.value.message == "uid: the user could not be looked up (UNAVAILABLE)"
