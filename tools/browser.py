"""Headless Chromium as the browser tests and the web bench launch it: Debian's package (browser
builds cannot be downloaded here), driven by Playwright for Python."""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_executable() -> str | None:
    """Debian's chromium, or None when it is not installed (`make setup` installs it)."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    return path if Path(path).exists() else None
