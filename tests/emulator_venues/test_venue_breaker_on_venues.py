"""The venue circuit breaker on the emulators, trading on the Alpaca fake: five orders of a
tenant that meet a 5xx within five minutes (the defaults) set the tenant `reducing` on alpaca
by itself, audited as `system`; the next buy is refused, naming the breaker, and reaches no
venue; another tenant is unaffected; the tenant's admin restores it with set_trading_state."""

from __future__ import annotations

import uuid

from tools.emulator_client import call, new_user, sign_in
from tools.fakes.http import Fault

FAILURES = 5  # EXEC_VENUE_BREAKER_FAILURES' default, within EXEC_VENUE_BREAKER_WINDOW_MIN's 5


def buy(key, symbol="MSFT"):
    return {"strategy_id": "manual", "symbol": symbol, "side": "buy", "qty": 1,
            "idempotency_key": key}  # fmt: skip


def admin_of(tenant):
    from firebase_admin import auth

    user = new_user()
    auth.set_custom_user_claims(user.uid, {"tenant_id": tenant, "role": "admin"})
    return sign_in(user.email, user.password)


def audit(db, tenant):
    entries = [d.to_dict() for d in db.collection(f"tenants/{tenant}/audit_log").stream()]
    return sorted(entries, key=lambda entry: entry["at"])


def test_a_venue_failing_five_times_sets_the_tenant_reducing_on_it(db, fakes):
    alpaca, _ = fakes
    tenant, other = f"breaker-{uuid.uuid4().hex[:8]}", f"breaker-{uuid.uuid4().hex[:8]}"
    user, bystander = new_user(tenant), new_user(other)
    alpaca.server.inject(Fault("status", "/v2/orders", method="POST", status=500,
                               times=FAILURES))  # fmt: skip
    for n in range(FAILURES):
        failed = call("execute_strategy", buy(f"fail-{n}"), user.id_token).result
        assert failed["status"] == "unknown", failed
    state = db.document(f"tenants/{tenant}/settings/venue_states").get().to_dict()
    alpaca_state = state["venues"]["alpaca"]
    assert (alpaca_state["state"], alpaca_state["by"]) == ("reducing", "system")
    assert alpaca_state["reason"].startswith("circuit breaker: 5 failures on alpaca in 5 minutes")
    (entry,) = audit(db, tenant)
    assert (entry["by"], entry["scope"], entry["venue"], entry["from"], entry["to"]) == (
        "system", "tenant", "alpaca", "active", "reducing")  # fmt: skip

    orders_before = len(alpaca.orders)
    posted_before = len(alpaca.server.requests_to("/v2/orders"))
    refused = call("execute_strategy", buy("after-trip"), user.id_token)
    assert refused.code == "FAILED_PRECONDITION"
    assert refused.error["message"].startswith(
        "trading is reducing on venue alpaca for this tenant (circuit breaker: 5 failures"
    ) and refused.error["message"].endswith("only orders that shrink an existing position "
                                            "(holding 0 MSFT)"), refused.error  # fmt: skip
    assert len(alpaca.orders) == orders_before
    assert len(alpaca.server.requests_to("/v2/orders")) == posted_before
    # Another tenant trades on alpaca as before.
    assert call("execute_strategy", buy("elsewhere"), bystander.id_token).result["status"] == (
        "filled"
    )

    admin = admin_of(tenant)
    restored = call("set_trading_state", {"scope": "tenant", "venue": "alpaca", "state": "active",
                                          "reason": "alpaca is back"}, admin.id_token)  # fmt: skip
    assert restored.result == {
        "scope": "tenant", "uid": None, "from": "reducing", "to": "active",
        "reason": "alpaca is back", "changed": True, "venue": "alpaca",
    }  # fmt: skip
    filled = call("execute_strategy", buy("after-trip"), user.id_token).result  # the key is free
    assert filled["status"] == "filled", filled
    assert [(e["by"], e["to"]) for e in audit(db, tenant)] == [
        ("system", "reducing"), (admin.uid, "active")]  # fmt: skip


def test_a_venue_state_is_set_only_with_scope_tenant_and_a_known_venue(db, fakes):
    tenant = f"breaker-{uuid.uuid4().hex[:8]}"
    admin = admin_of(tenant)
    for data, field in (
        ({"scope": "tenant", "venue": "nyse", "state": "halted", "reason": "x"}, "venue"),
        ({"scope": "user", "uid": "u1", "venue": "alpaca", "state": "halted", "reason": "x"},
         "venue"),
    ):  # fmt: skip
        bad = call("set_trading_state", data, admin.id_token)
        assert bad.code == "INVALID_ARGUMENT" and bad.error["message"].startswith(field), bad
    assert audit(db, tenant) == []
