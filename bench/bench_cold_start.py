"""Cold start: importing main.py against importing the Firebase SDK alone, in fresh interpreters.

main_import_ms   `import main` (the three functions, the Admin SDK app)
sdk_import_ms    firebase_functions' https_fn, firestore_fn and scheduler_fn alone
main_import_ratio  main over SDK; the target is at most 1.15
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"
RUNS = 9
TIMED = "import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
STATEMENTS = {
    "main": "import main",
    "sdk": "from firebase_functions import firestore_fn, https_fn, scheduler_fn",
}


def import_seconds(statement: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", TIMED.format(statement=statement)],
        cwd=FUNCTIONS,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    samples: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    for _ in range(RUNS):  # interleaved, so both see the same machine load
        for name, statement in STATEMENTS.items():
            samples[name].append(import_seconds(statement))
    main_ms = statistics.median(samples["main"]) * 1000
    sdk_ms = statistics.median(samples["sdk"]) * 1000
    print(f"BENCH main_import_ms={main_ms:.1f}")
    print(f"BENCH sdk_import_ms={sdk_ms:.1f}")
    print(f"BENCH main_import_ratio={main_ms / sdk_ms:.3f}")


if __name__ == "__main__":
    main()
