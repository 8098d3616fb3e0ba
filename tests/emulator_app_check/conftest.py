"""The functions on the emulators with App Check enforced, as a deploy sets it
(EXEC_ENFORCE_APP_CHECK true, written to functions/.env.local for this run only).

There is no App Check emulator, and the Python SDK verifies App Check tokens against Google's
live keys: no token a test can make is valid, so these tests show refusals. Calls with a valid
token are what production serves; the other emulator packages run with App Check off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator_session import emulators_for_package
from tools.emulators import ROOT, functions_overrides

LOG_PATH = ROOT / ".cache" / "emulators-app-check-test.log"


@pytest.fixture(scope="package", autouse=True)
def emulators() -> Iterator[None]:
    overrides = functions_overrides({"EXEC_ENFORCE_APP_CHECK": "true"}, {})
    with emulators_for_package(LOG_PATH, setup=(overrides,)):
        yield


@pytest.fixture(scope="package")
def db(emulators):
    from smart_routing_firebase.platform.app import firestore_client

    return firestore_client()
