"""A client of the emulators as a web app would be one: auth REST, the callable over HTTP,
Firestore REST with ID tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from smart_routing_firebase.platform.deployment import REGION
from tools.emulators import ENDPOINTS, PROJECT_ID

AUTH_URL = f"http://{ENDPOINTS['auth'].address}/identitytoolkit.googleapis.com/v1"
FUNCTIONS_URL = f"http://{ENDPOINTS['functions'].address}/{PROJECT_ID}/{REGION}"
FIRESTORE_URL = (
    f"http://{ENDPOINTS['firestore'].address}/v1"
    f"/projects/{PROJECT_ID}/databases/(default)/documents"
)
API_KEY = "emulator-api-key"  # the auth emulator accepts any key


@dataclass(frozen=True)
class User:
    uid: str
    email: str
    password: str
    id_token: str


def sign_up(email: str, password: str) -> User:
    body = _auth("accounts:signUp", email, password)
    return User(body["localId"], email, password, body["idToken"])


def sign_in(email: str, password: str) -> User:
    body = _auth("accounts:signInWithPassword", email, password)
    return User(body["localId"], email, password, body["idToken"])


def new_user(tenant_id: str | None = None, role: str | None = None) -> User:
    """A new signed-up user; with a tenant, its ID token carries the tenant_id claim (and the
    role claim, when given), set with the Admin SDK, which must already be initialized against
    the emulators."""
    import uuid

    email, password = f"{uuid.uuid4().hex[:12]}@example.com", "password-123"
    user = sign_up(email, password)
    if tenant_id is None:
        return user
    from firebase_admin import auth

    claims = {"tenant_id": tenant_id} if role is None else {"tenant_id": tenant_id, "role": role}
    auth.set_custom_user_claims(user.uid, claims)
    return sign_in(email, password)


def new_admin(tenant_id: str) -> User:
    """A new signed-up admin of the tenant (role claim "admin")."""
    return new_user(tenant_id, role="admin")


def _auth(method: str, email: str, password: str) -> dict[str, Any]:
    response = requests.post(
        f"{AUTH_URL}/{method}?key={API_KEY}",
        json={"email": email, "password": password, "returnSecureToken": True},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


@dataclass(frozen=True)
class CallResult:
    http_status: int
    result: Any = None
    error: dict[str, Any] | None = None

    @property
    def code(self) -> str | None:
        return self.error["status"] if self.error else None


def call(function: str, data: Any, id_token: str | None = None, timeout: float = 90) -> CallResult:
    """Call an HTTPS-callable function with the callable protocol: {"data": ...} in,
    {"result": ...} or {"error": {"status", "message"}} out.

    Under concurrent calls the functions emulator sometimes loses its connection to the
    function's worker ("Request to function failed: Error: socket hang up") and answers 500
    with the Node error itself, outside the callable protocol; whether the function ran is
    unknown. A call with an idempotency_key is then sent again, as a client does after a
    dropped connection (the key makes that safe); any other call returns that answer."""
    headers = {"Authorization": f"Bearer {id_token}"} if id_token else {}
    for _ in range(EMULATOR_DROP_RESENDS):
        response = requests.post(
            f"{FUNCTIONS_URL}/{function}", json={"data": data}, headers=headers, timeout=timeout
        )
        body = response.json()
        if not (_dropped_by_emulator(response, body) and _keyed(data)):
            break
    return CallResult(response.status_code, body.get("result"), body.get("error"))


EMULATOR_DROP_RESENDS = 3


def _dropped_by_emulator(response: requests.Response, body: Any) -> bool:
    """The emulator's own 500 for a connection it lost (the Node error's JSON, e.g.
    {"code": "ECONNRESET"}), never an answer of the function, which is always the protocol's."""
    return (
        response.status_code == 500
        and isinstance(body, dict)
        and "result" not in body
        and "error" not in body
    )


def _keyed(data: Any) -> bool:
    return isinstance(data, dict) and bool(data.get("idempotency_key"))


def run_scheduled(
    function: str, schedule_time: datetime | str | None = None, timeout: float = 300
) -> requests.Response:
    """Run a scheduled function once, as Cloud Scheduler would for the tick `schedule_time`
    (a datetime, naive meaning UTC, sent as RFC 3339 UTC; or the header's text as is; None: the
    function's own "now"). The emulator serves it at `<name>-<generation>`: 0, and one more each
    time the hub turns background triggers back on (the older ones then answer 204, disabled).
    It answers 200, or 500 with the error."""
    headers = {}
    if isinstance(schedule_time, datetime):
        if schedule_time.tzinfo is None:
            schedule_time = schedule_time.replace(tzinfo=UTC)
        schedule_time = schedule_time.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if schedule_time is not None:
        headers["X-CloudScheduler-ScheduleTime"] = schedule_time
    for generation in range(MAX_TRIGGER_GENERATIONS):
        response = requests.post(
            f"{FUNCTIONS_URL}/{function}-{generation}", headers=headers, timeout=timeout
        )
        if response.status_code != 204:
            return response
    raise AssertionError(f"{function}: no enabled generation of the emulator's triggers")


MAX_TRIGGER_GENERATIONS = 100


def firestore_rest(
    method: str, path: str, id_token: str | None, body: dict[str, Any] | None = None
) -> requests.Response:
    """A Firestore REST request as a client: security rules apply (no admin bypass)."""
    headers = {"Authorization": f"Bearer {id_token}"} if id_token else {}
    return requests.request(
        method, f"{FIRESTORE_URL}/{path}", headers=headers, json=body, timeout=30
    )
