"""Benchmarks of the web app. Prints one `BENCH name=value` line per figure.

web_bundle_kb_gz     web/dist/app.js, index.html and styles.css gzipped (level 9), in KB; the
                     target is at most 250
web_first_paint_ms   first meaningful paint in headless Chromium on the emulators: from the
                     navigation's start until the page has its Firebase config and shows the
                     sign-in form with its message (median of fresh browser profiles, cold
                     cache); the target is at most 1,500
web_first_contentful_paint_ms   the browser's own first-contentful-paint, median
"""

from __future__ import annotations

import gzip
import shutil
import statistics
import sys
import tempfile

from tools.browser import CHROMIUM_ARGS, chromium_executable
from tools.emulators import ENDPOINTS, ROOT, running_emulators

DIST = ROOT / "web" / "dist"
RUNS = 7
READY = "document.getElementById('auth-message').textContent.startsWith('Sign in')"


def bundle_kb_gz() -> float:
    files = [DIST / name for name in ("app.js", "index.html", "styles.css")]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        sys.exit(f"bench_web: the web app is not built ({', '.join(missing)}): run `make setup`")
    return sum(len(gzip.compress(f.read_bytes(), 9)) for f in files) / 1024


def first_paint_ms() -> tuple[float, float]:
    from playwright.sync_api import sync_playwright

    url = f"http://{ENDPOINTS['hosting'].address}/"
    meaningful, contentful = [], []
    log = ROOT / ".cache" / "emulators-bench-web.log"
    chromium = chromium_executable()
    if chromium is None:
        sys.exit("bench_web: Chromium is not installed: run `make setup`")
    with (
        running_emulators(ROOT / "emulator-data", log, only="auth,firestore,hosting"),
        sync_playwright() as playwright,
    ):
        for _ in range(RUNS):
            folder = tempfile.mkdtemp(prefix="chromium-bench-")
            try:
                context = playwright.chromium.launch_persistent_context(
                    folder,
                    executable_path=chromium,
                    args=CHROMIUM_ARGS,
                    headless=True,
                    viewport={"width": 1280, "height": 900},
                )
                page = context.pages[0] if context.pages else context.new_page()
                page.goto(url)
                page.wait_for_function(READY, polling="raf", timeout=30_000)
                meaningful.append(page.evaluate("performance.now()"))
                contentful.append(
                    page.evaluate(
                        "performance.getEntriesByName('first-contentful-paint')[0]"
                        "?.startTime ?? NaN"
                    )
                )
                context.close()
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    return statistics.median(meaningful[1:]), statistics.median(contentful[1:])


def main() -> None:
    print(f"BENCH web_bundle_kb_gz={bundle_kb_gz():.1f}")
    meaningful, contentful = first_paint_ms()
    print(f"BENCH web_first_paint_ms={meaningful:.0f}")
    print(f"BENCH web_first_contentful_paint_ms={contentful:.0f}")


if __name__ == "__main__":
    main()
