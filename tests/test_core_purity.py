"""The core is pure: it imports nothing from Firebase or Google Cloud."""

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "functions" / "smart_routing"
FORBIDDEN = ("firebase_functions", "firebase_admin", "google")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_core_module_imports_firebase_or_google():
    offenders = {
        str(path.relative_to(CORE)): name
        for path in CORE.rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN
    }
    assert offenders == {}


def test_importing_every_core_module_loads_no_firebase_or_google_module():
    modules = [
        "smart_routing." + ".".join(path.relative_to(CORE).with_suffix("").parts)
        for path in CORE.rglob("*.py")
        if path.name not in ("__init__.py", "__main__.py")
    ]
    # A .pth file of the Google packages preloads the empty `google` namespace at start-up:
    # what counts is what importing the core adds.
    code = (
        "import importlib, sys\n"
        "before = set(sys.modules)\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "added = set(sys.modules) - before\n"
        f"print(sorted(m for m in added if m.split('.')[0] in {FORBIDDEN!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=CORE.parent, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_only_the_replay_command_loads_its_plotting_and_csv_libraries():
    """matplotlib and pyarrow are development requirements: the functions never import them."""
    code = (
        "import sys, main, smart_routing, smart_routing.cli, smart_routing.execution.engine\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'pyarrow')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=CORE.parent, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
