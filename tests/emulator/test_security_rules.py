"""Security rules, asserted cell by cell through the Firestore REST API with ID tokens:
{no auth, another user, the owner, the tenant's admin, another tenant's admin} x
{get, list, create, update, delete} on every path."""

from __future__ import annotations

import pytest

from tools.emulator_client import firestore_rest

FIELDS = {"fields": {"probe": {"stringValue": "x"}}}


@pytest.fixture(scope="module")
def world(db, emulators):
    """An owner and another user of one tenant, the tenant's admin and another tenant's, and
    one document on each path."""
    import uuid

    from firebase_admin import auth

    from tools.emulator_client import new_user, sign_in

    tenant = f"rules-{uuid.uuid4().hex[:8]}"
    users = {name: new_user(tenant) for name in ("owner", "other")}
    for name, tenant_id in (("admin", tenant), ("foreign admin", f"{tenant}-other")):
        user = new_user()
        auth.set_custom_user_claims(user.uid, {"tenant_id": tenant_id, "role": "admin"})
        users[name] = sign_in(user.email, user.password)
    owner = users["owner"].uid
    documents = {
        "history": f"users/{owner}/portfolio/history/trades/t1",
        "lots": f"users/{owner}/portfolio/lots/symbols/AAPL",
        "open lot": f"users/{owner}/portfolio/lots/symbols/AAPL/open/t1",
        "account": f"users/{owner}/portfolio/account",
        "position": f"users/{owner}/portfolio/positions/symbols/AAPL",
        "order": f"tenants/{tenant}/orders/o1",
        "ledger": f"tenants/{tenant}/ledger_trades/t1",
        "strategy": f"tenants/{tenant}/strategies/manual",
        "expiry task": f"limit_expiry_tasks/expire-{tenant}",
        "decision": f"tenants/{tenant}/decisions/d1",
        "tca daily": f"tenants/{tenant}/tca_daily/2026-03-02",
        "tenant trading state": f"tenants/{tenant}/settings/trading_state",
        "user trading state": f"tenants/{tenant}/user_trading_states/{owner}",
        "audit log": f"tenants/{tenant}/audit_log/a1",
        "execution issue": f"tenants/{tenant}/execution_issues/not_placed-o1",
        "tenant limits": f"tenants/{tenant}/settings/limits",
        "venue states": f"tenants/{tenant}/settings/venue_states",
        "venue health": f"tenants/{tenant}/venue_health/alpaca",
        "rate bucket": f"tenants/{tenant}/rate_buckets/order/users/{owner}",
        "rate shard": f"tenants/{tenant}/rate_buckets/order/tenant_shards/0",
        "daily notional": f"tenants/{tenant}/daily_notional/2026-03-02/users/{owner}",
    }
    for target, path in documents.items():
        # A decision names its user: the owner's own record.
        db.document(path).set({"seeded": True, **({"uid": owner} if target == "decision" else {})})
    tokens = {"no auth": None, "another user": users["other"].id_token,
              "the owner": users["owner"].id_token, "the tenant's admin": users["admin"].id_token,
              "another tenant's admin": users["foreign admin"].id_token}  # fmt: skip
    return documents, tokens


ALLOWED = {("the owner", "history", "get"), ("the owner", "history", "list"),
           ("the owner", "lots", "get"), ("the owner", "lots", "list"),
           ("the owner", "open lot", "get"), ("the owner", "open lot", "list"),
           ("the owner", "account", "get"),
           ("the owner", "position", "get"), ("the owner", "position", "list"),
           # A list of decisions must ask for the user's own (the page's query, tested from
           # the JS side): a plain list of the collection is refused.
           ("the owner", "decision", "get"),
           # The admin page: the tenant's orders, beside its TCA, states and audit log.
           ("the tenant's admin", "order", "get"), ("the tenant's admin", "order", "list"),
           ("the tenant's admin", "tca daily", "get"),
           ("the tenant's admin", "tca daily", "list"),
           # The kill switch: the tenant's state binds all its users, a user's state its user;
           # the admin sees every state and the audit log.
           ("the owner", "tenant trading state", "get"),
           ("another user", "tenant trading state", "get"),
           ("the tenant's admin", "tenant trading state", "get"),
           ("the owner", "user trading state", "get"),
           ("the tenant's admin", "user trading state", "get"),
           ("the tenant's admin", "user trading state", "list"),
           ("the tenant's admin", "audit log", "get"),
           ("the tenant's admin", "audit log", "list"),
           ("the tenant's admin", "execution issue", "get"),
           ("the tenant's admin", "execution issue", "list"),
           # Order limits: the admin reads the caps; only the platform writes them.
           ("the tenant's admin", "tenant limits", "get"),
           # The tenant's states on venues bind all its users, like the tenant's own.
           ("the owner", "venue states", "get"), ("another user", "venue states", "get"),
           ("the tenant's admin", "venue states", "get")}  # fmt: skip
IDENTITIES = [
    "no auth",
    "another user",
    "the owner",
    "the tenant's admin",
    "another tenant's admin",
]
TARGETS = ["history", "lots", "open lot", "account", "position", "order", "ledger", "strategy",
           "expiry task", "decision", "tca daily", "tenant trading state", "user trading state",
           "audit log", "execution issue", "tenant limits", "rate bucket", "rate shard",
           "daily notional", "venue states", "venue health"]  # fmt: skip
OPERATIONS = ["get", "list", "create", "update", "delete"]


def request(operation, path, token):
    collection, _, _ = path.rpartition("/")
    if operation == "get":
        return firestore_rest("GET", path, token)
    if operation == "list":
        return firestore_rest("GET", collection, token)
    if operation == "create":
        return firestore_rest("POST", f"{collection}?documentId=created-by-client", token, FIELDS)
    if operation == "update":
        return firestore_rest("PATCH", f"{path}?updateMask.fieldPaths=probe", token, FIELDS)
    return firestore_rest("DELETE", path, token)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("identity", IDENTITIES)
def test_only_the_owner_reads_their_own_history_and_lots(world, db, identity, target, operation):
    documents, tokens = world
    response = request(operation, documents[target], tokens[identity])
    if (identity, target, operation) in ALLOWED:
        assert response.status_code == 200, response.text
        if operation == "list":
            assert [d["name"].rsplit("/", 1)[1] for d in response.json()["documents"]] == [
                documents[target].rsplit("/", 1)[1]
            ]
    else:
        assert response.status_code == 403, response.text
        stored = db.document(documents[target]).get().to_dict()
        assert stored["seeded"] is True and set(stored) <= {"seeded", "uid"}  # as seeded
