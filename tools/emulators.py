"""Start and stop the Firebase emulators (auth, Firestore, functions, hosting) for tests and the
demo."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIREBASE = ROOT / "node_modules" / ".bin" / "firebase"
# The tasks emulator (Cloud Tasks, for task-queue functions) starts with the functions one.
EMULATOR_NAMES = ("auth", "firestore", "functions", "tasks", "hosting", "hub", "logging")
READY = "All emulators ready"
START_TIMEOUT_S = 240


class EmulatorError(RuntimeError):
    """The emulators could not start; the message says why."""


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def _read_endpoints(firebase_json: Path) -> dict[str, Endpoint]:
    """Each emulator's host and port, as firebase.json configures them for the CLI."""
    configured = json.loads(firebase_json.read_text()).get("emulators", {})
    missing = [
        name for name in EMULATOR_NAMES if not {"host", "port"} <= configured.get(name, {}).keys()
    ]
    if missing:
        raise EmulatorError(f"{firebase_json} sets no host and port for: {', '.join(missing)}")
    return {
        name: Endpoint(configured[name]["host"], int(configured[name]["port"]))
        for name in EMULATOR_NAMES
    }


def _read_project_id(firebaserc: Path) -> str:
    return json.loads(firebaserc.read_text())["projects"]["default"]


# firebase.json and .firebaserc are what the CLI reads: the harness reads the same files.
ENDPOINTS = _read_endpoints(ROOT / "firebase.json")
PROJECT_ID = _read_project_id(ROOT / ".firebaserc")


def emulator_environment() -> dict[str, str]:
    """What a client process needs to talk to the emulators with the Admin SDK."""
    return {
        "FIRESTORE_EMULATOR_HOST": ENDPOINTS["firestore"].address,
        "FIREBASE_AUTH_EMULATOR_HOST": ENDPOINTS["auth"].address,
        "CLOUD_TASKS_EMULATOR_HOST": ENDPOINTS["tasks"].address,
        "GCLOUD_PROJECT": PROJECT_ID,
    }


@contextlib.contextmanager
def client_environment() -> Iterator[None]:
    """Point this process's Admin SDK at the emulators; restore the environment on exit."""
    saved = {name: os.environ.get(name) for name in emulator_environment()}
    os.environ.update(emulator_environment())
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# Functions settings a test may write for one emulator run; the first line marks them as such.
TEST_OVERRIDE_MARKER = "# written by the venue emulator tests; safe to delete"
TEST_OVERRIDE_FILES = (ROOT / "functions" / ".env.local", ROOT / "functions" / ".secret.local")


@contextlib.contextmanager
def running_emulators(
    import_dir: Path | None, log_path: Path, only: str = "auth,firestore,functions"
) -> Iterator[subprocess.Popen]:
    """Start the emulators (`only`: which), wait until they are ready, stop them on exit."""
    _check_prerequisites()
    command = [str(FIREBASE), "emulators:start", "--only", only]
    command += ["--project", PROJECT_ID]
    if import_dir is not None:
        command += ["--import", str(import_dir)]
    env = {**os.environ, "FIRESTORE_EMULATOR_BINARY_PATH": _firestore_jar()}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_until_ready(process, log_path, functions="functions" in only)
        yield process
    finally:
        _stop(process)


@contextlib.contextmanager
def functions_overrides(env: dict[str, str], secrets: dict[str, str]) -> Iterator[None]:
    """Write functions/.env.local and functions/.secret.local for one emulator run."""
    for path, values in zip(TEST_OVERRIDE_FILES, (env, secrets), strict=True):
        if path.exists() and not path.read_text().startswith(TEST_OVERRIDE_MARKER):
            raise EmulatorError(f"{path} exists and is not a test override: move it away")
        lines = [TEST_OVERRIDE_MARKER, *(f"{k}={v}" for k, v in values.items())]
        path.write_text("\n".join(lines) + "\n")
    try:
        yield
    finally:
        remove_test_overrides()


def remove_test_overrides() -> None:
    """Delete override files a test left behind (a killed run), never a developer's own."""
    for path in TEST_OVERRIDE_FILES:
        if path.exists() and path.read_text().startswith(TEST_OVERRIDE_MARKER):
            path.unlink()


def _check_prerequisites() -> None:
    if not FIREBASE.exists():
        raise EmulatorError(f"firebase-tools is not installed at {FIREBASE}: run `make setup`")
    busy = [f"{name} ({at.address})" for name, at in ENDPOINTS.items() if _port_in_use(at)]
    if busy:
        raise EmulatorError(
            "emulator ports already in use: " + ", ".join(busy) + " (stop `make serve`?)"
        )


def _firestore_jar() -> str:
    done = subprocess.run(
        [str(ROOT / "scripts" / "firestore-emulator-jar.sh")], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise EmulatorError(f"no Firestore emulator: {done.stderr.strip()}")
    return done.stdout.strip()


def _port_in_use(endpoint: Endpoint) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((endpoint.host, endpoint.port)) == 0


def _wait_until_ready(process: subprocess.Popen, log_path: Path, functions: bool) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        log = log_path.read_text(errors="replace")
        if READY in log:
            if functions and "Loaded functions definitions" not in log:
                raise EmulatorError("the functions did not load:\n" + _tail(log))
            return
        if process.poll() is not None:
            raise EmulatorError(f"the emulators exited with {process.returncode}:\n{_tail(log)}")
        time.sleep(0.5)
    _stop(process)
    raise EmulatorError(
        f"the emulators were not ready after {START_TIMEOUT_S}s:\n"
        + _tail(log_path.read_text(errors="replace"))
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    # The CLI starts the Firestore emulator's JVM in a process group of its own: when the CLI
    # must be killed, its children are killed too, or they keep the ports.
    # The functions emulator's Python workers outlive even a clean exit of the CLI (it starts
    # new ones as it shuts down; they were left running, gigabytes after a day of runs):
    # whatever is left of its process group, and of its children elsewhere, goes too.
    children = _descendants(process.pid)
    os.killpg(process.pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc (empty where there is none)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        for child in parents.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])
