"""The kill switch through the functions: only the tenant's admin sets a trading state, every
change is audited, and execute_strategy refuses what the state forbids, naming it, placing
nothing and releasing the idempotency key."""

from __future__ import annotations

import pytest

from tools.emulator_client import call, new_user, sign_in


@pytest.fixture
def admin(db, tenant_id):
    from firebase_admin import auth

    user = new_user()
    auth.set_custom_user_claims(user.uid, {"tenant_id": tenant_id, "role": "admin"})
    return sign_in(user.email, user.password)


def set_state(token, **data):
    return call("set_trading_state", data, token)


def buy(key, qty=1, side="buy"):
    return {"strategy_id": "manual", "symbol": "AAPL", "qty": qty, "side": side,
            "idempotency_key": key}  # fmt: skip


def audit(db, tenant_id):
    entries = [d.to_dict() for d in db.collection(f"tenants/{tenant_id}/audit_log").stream()]
    return sorted(entries, key=lambda entry: entry["at"])


def test_only_the_tenants_admin_sets_a_state(db, make_user, tenant_id, admin):
    user = make_user(tenant_id)
    refused = set_state(user.id_token, scope="tenant", state="halted", reason="mine now")
    assert refused.code == "PERMISSION_DENIED"
    foreign = new_user()
    from firebase_admin import auth

    auth.set_custom_user_claims(foreign.uid, {"tenant_id": f"{tenant_id}-x", "role": "admin"})
    foreign = sign_in(foreign.email, foreign.password)
    # Another tenant's admin sets their own tenant's state, never this one's.
    set_state(foreign.id_token, scope="tenant", state="halted", reason="elsewhere")
    assert call("execute_strategy", buy("still-active"), user.id_token).code is None
    bad = set_state(admin.id_token, scope="user", state="halted", reason="no uid")
    assert bad.code == "INVALID_ARGUMENT" and "uid" in bad.error["message"]
    unknown = set_state(admin.id_token, scope="tenant", state="paused", reason="x")
    assert unknown.code == "INVALID_ARGUMENT" and unknown.error["message"].startswith("state:")
    assert audit(db, tenant_id) == []


def test_a_halted_tenant_places_nothing_and_the_key_is_released(db, make_user, tenant_id, admin):
    user = make_user(tenant_id)
    changed = set_state(admin.id_token, scope="tenant", state="halted", reason="venue outage")
    assert changed.result == {"scope": "tenant", "uid": None, "from": "active", "to": "halted",
                              "reason": "venue outage", "changed": True}  # fmt: skip
    refused = call("execute_strategy", buy("k1"), user.id_token)
    assert refused.code == "FAILED_PRECONDITION"
    assert refused.error["message"] == (
        "trading is halted for this tenant (venue outage): no new orders"
    )
    assert list(db.collection(f"tenants/{tenant_id}/ledger_trades").stream()) == []
    assert list(db.collection(f"tenants/{tenant_id}/executions").stream()) == []
    set_state(admin.id_token, scope="tenant", state="active", reason="venue back")
    filled = call("execute_strategy", buy("k1"), user.id_token)  # the same key, now free
    assert filled.code is None and filled.result["status"] == "filled"
    (halt, resume) = audit(db, tenant_id)
    assert (halt["from"], halt["to"], halt["by"], halt["scope"]) == (
        "active", "halted", admin.uid, "tenant")  # fmt: skip
    assert (resume["from"], resume["to"], resume["reason"]) == ("halted", "active", "venue back")


def test_a_reducing_user_may_only_shrink_a_position(db, make_user, tenant_id, admin):
    user, other = make_user(tenant_id), make_user(tenant_id)
    assert call("execute_strategy", buy("first", qty=3), user.id_token).result["status"] == (
        "filled"
    )
    set_state(admin.id_token, scope="user", uid=user.uid, state="reducing", reason="review")
    more = call("execute_strategy", buy("more"), user.id_token)
    assert more.code == "FAILED_PRECONDITION"
    assert more.error["message"].startswith("trading is reducing for this user (review)")
    sold = call("execute_strategy", buy("sell", qty=2, side="sell"), user.id_token)
    assert sold.code is None and sold.result["status"] == "filled"
    # Another user of the tenant trades on.
    assert call("execute_strategy", buy("other"), other.id_token).result["status"] == "filled"
    state = db.document(f"tenants/{tenant_id}/user_trading_states/{user.uid}").get().to_dict()
    assert (state["state"], state["reason"], state["by"]) == ("reducing", "review", admin.uid)


def test_setting_the_state_a_scope_has_changes_and_audits_nothing(db, tenant_id, admin):
    again = set_state(admin.id_token, scope="tenant", state="active", reason="already")
    assert again.result["changed"] is False
    assert audit(db, tenant_id) == []


def test_a_user_state_for_a_uid_not_of_the_tenant_is_refused_and_writes_nothing(
    db, tenant_id, admin
):
    # A mistyped uid, or another tenant's user's, must not answer "changed" while the user
    # the admin meant trades on.
    missing = set_state(admin.id_token, scope="user", uid="no-such-user", state="halted",
                        reason="rogue")  # fmt: skip
    assert missing.code == "NOT_FOUND" and missing.error["message"] == "uid: no user no-such-user"
    foreign = new_user(f"{tenant_id}-x")
    other = set_state(admin.id_token, scope="user", uid=foreign.uid, state="halted", reason="r")
    assert other.code == "PERMISSION_DENIED", other
    assert other.error["message"] == f"uid: {foreign.uid} is not a user of your tenant"
    assert list(db.collection(f"tenants/{tenant_id}/user_trading_states").stream()) == []
    assert audit(db, tenant_id) == []
