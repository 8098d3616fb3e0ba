"""The deploy manifest as the Firebase CLI reads it: what firebase_functions serves from
main.py (`functions_as_yaml(get_functions())`), rendered in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import yaml

from tools.emulators import PROJECT_ID, ROOT

_RENDER = (
    "from firebase_functions.private import serving\n"
    "print(serving.functions_as_yaml(serving.get_functions()))\n"
)


def render_manifest() -> dict[str, Any]:
    """The manifest, parsed. main.py initializes the Admin SDK as it loads; pointed at
    emulator addresses that nothing serves, it connects to nothing."""
    env = {
        **os.environ,
        "GCLOUD_PROJECT": PROJECT_ID,
        "FIRESTORE_EMULATOR_HOST": "127.0.0.1:9",
        "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9",
    }
    done = subprocess.run(
        [sys.executable, "-c", _RENDER],
        cwd=ROOT / "functions",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"main.py did not render a manifest:\n{done.stderr}")
    return yaml.safe_load(done.stdout)
