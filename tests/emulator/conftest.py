"""Every test in this folder runs against real emulators started once for the folder.

If they cannot start, each test fails with the reason: nothing is skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.emulator_session import emulators_for_package
from tools.emulator_client import User, new_user
from tools.emulators import ROOT
from tools.waiting import wait_until

LOG_PATH = ROOT / ".cache" / "emulators-test.log"


@pytest.fixture(scope="package", autouse=True)
def emulators() -> Iterator[None]:
    with emulators_for_package(LOG_PATH):
        yield


@pytest.fixture(scope="package")
def db(emulators):
    from smart_routing_firebase.platform.app import firestore_client

    return firestore_client()


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    """A new signed-up user; with a tenant, its ID token carries the tenant_id claim."""
    return new_user


@pytest.fixture
def tenant_id() -> str:
    return f"tenant-{uuid.uuid4().hex[:10]}"


def wait_for(read: Callable[[], Any], timeout_s: float = 30.0, interval_s: float = 0.2) -> Any:
    """Poll until `read` returns something truthy; fail with what it last returned."""
    return wait_until(read, timeout_s, interval_s)
