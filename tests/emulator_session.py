"""The emulators a test package runs on, started once for the package."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

import pytest

from tools.emulators import (
    ROOT,
    EmulatorError,
    client_environment,
    remove_test_overrides,
    running_emulators,
)


@contextmanager
def emulators_for_package(
    log_path: Path,
    only: str = "auth,firestore,functions",
    setup: tuple[AbstractContextManager[object], ...] = (),
) -> Iterator[None]:
    """The emulators on the demo data, with the client environment and any `setup` (entered
    first, e.g. the functions' overrides). If they cannot start, each test fails with the
    reason: nothing is skipped. Override files a killed run left behind (functions/.env.local,
    .secret.local: App Check on, the venue fakes' URLs) are removed first."""
    remove_test_overrides()
    try:
        with ExitStack() as stack:
            stack.enter_context(client_environment())
            for context in setup:
                stack.enter_context(context)
            stack.enter_context(running_emulators(ROOT / "emulator-data", log_path, only=only))
            yield
    except EmulatorError as exc:
        pytest.fail(f"the Firebase emulators could not start: {exc}", pytrace=False)
