from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from smart_routing.adapters.clock import FixedClock
from smart_routing.config.engine_config import EngineConfig
from smart_routing.runtime import LocalRuntime, build_local_runtime


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def runtime(clock: FixedClock) -> LocalRuntime:
    return build_local_runtime(EngineConfig(smart_routing_enabled=True), clock)


@pytest.fixture
def log_records(capsys: pytest.CaptureFixture[str]) -> Callable[[], list[dict]]:
    """The JSON log lines written to stdout so far."""

    def read() -> list[dict]:
        out = capsys.readouterr().out
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    return read
