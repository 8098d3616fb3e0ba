"""Every test in this folder runs against real emulators started once for the folder.

If they cannot start, each test fails with the reason: nothing is skipped.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tools.emulator_client import User, sign_in, sign_up
from tools.emulators import ROOT, EmulatorError, emulator_environment, running_emulators

LOG_PATH = ROOT / ".cache" / "emulators-test.log"


@pytest.fixture(scope="package", autouse=True)
def emulators() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in emulator_environment()}
    os.environ.update(emulator_environment())
    try:
        with running_emulators(ROOT / "emulator-data", LOG_PATH):
            yield
    except EmulatorError as exc:
        pytest.fail(f"the Firebase emulators could not start: {exc}", pytrace=False)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="package")
def db(emulators):
    from smart_routing_firebase.app import firestore_client

    return firestore_client()


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    """A new signed-up user; with a tenant, its ID token carries the tenant_id claim."""
    from firebase_admin import auth

    def make(tenant_id: str | None = None) -> User:
        email, password = f"{uuid.uuid4().hex[:12]}@example.com", "password-123"
        user = sign_up(email, password)
        if tenant_id is None:
            return user
        auth.set_custom_user_claims(user.uid, {"tenant_id": tenant_id})
        return sign_in(email, password)

    return make


@pytest.fixture
def tenant_id() -> str:
    return f"tenant-{uuid.uuid4().hex[:10]}"


def wait_for(read: Callable[[], Any], timeout_s: float = 30.0, interval_s: float = 0.2) -> Any:
    """Poll until `read` returns something truthy; fail with what it last returned."""
    deadline = time.monotonic() + timeout_s
    value = read()
    while not value and time.monotonic() < deadline:
        time.sleep(interval_s)
        value = read()
    assert value, f"nothing after {timeout_s}s"
    return value
