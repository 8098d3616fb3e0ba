"""The Firestore rules for what the page reads, tested from the JS side
(`@firebase/rules-unit-testing`, `npm run test:rules`) on this folder's Firestore emulator."""

from __future__ import annotations

import os
import subprocess

from tools.emulators import ENDPOINTS, ROOT


def test_the_js_rules_tests_pass(emulators):
    done = subprocess.run(
        ["npm", "run", "--silent", "test:rules"],
        cwd=ROOT,
        env={**os.environ, "FIRESTORE_EMULATOR_HOST": ENDPOINTS["firestore"].address},
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, f"npm run test:rules failed:\n{report[-6000:]}"
    assert "# fail 0" in report and "# pass 0" not in report, report[-3000:]


def test_the_js_unit_tests_pass():
    """The page's exact-decimal and CSV arithmetic (web/test/tax.test.mjs)."""
    done = subprocess.run(
        ["npm", "run", "--silent", "test:unit"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, f"npm run test:unit failed:\n{report[-6000:]}"
    assert "# fail 0" in report and "# pass 0" not in report, report[-3000:]
