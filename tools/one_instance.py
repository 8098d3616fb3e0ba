"""One function instance as Cloud Functions runs it: functions-framework's gunicorn, one
process, `threads` request threads (the deployed concurrency), on this checkout's main.py and
functions/.env.<project>, against whatever emulators the environment names."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tools.deploy_manifest import render_manifest
from tools.emulators import PROJECT_ID, ROOT

FUNCTIONS = ROOT / "functions"
START_TIMEOUT_S = 60


class InstanceError(RuntimeError):
    """The instance did not start; the message says why."""


@dataclass(frozen=True)
class Instance:
    url: str
    threads: int
    process: subprocess.Popen
    log_path: Path

    def cpu_seconds(self) -> float:
        """User and system CPU the instance has used so far: every process of its group (the
        gunicorn arbiter and the worker it forks, which serves), from Linux /proc."""
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == self.process.pid:  # its process group (a new session)
                    ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")


def deployed_concurrency(function: str) -> int:
    return int(render_manifest()["endpoints"][function]["concurrency"])


def project_env() -> dict[str, str]:
    """functions/.env.<project>, as the CLI loads it for the emulated functions."""
    lines = (FUNCTIONS / f".env.{PROJECT_ID}").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {key.strip(): value.strip() for key, value in pairs}


@contextlib.contextmanager
def running_instance(function: str, log_path: Path) -> Iterator[Instance]:
    threads, port = deployed_concurrency(function), _free_port()
    env = {
        **os.environ,
        **project_env(),
        "FUNCTION_TARGET": function,
        "FUNCTION_SIGNATURE_TYPE": "http",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "THREADS": str(threads),
        "PYTHONUNBUFFERED": "1",
    }
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "functions_framework"],
            cwd=FUNCTIONS, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        _wait_until_listening(process, port, log_path)
        yield Instance(f"http://127.0.0.1:{port}/", threads, process, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_listening(process: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise InstanceError(f"the instance exited with {process.returncode}: see {log_path}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise InstanceError(f"the instance did not listen within {START_TIMEOUT_S}s: see {log_path}")
