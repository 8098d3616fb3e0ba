"""The web app in headless Chromium (Debian's package, driven by Playwright for Python) against
the emulators, hosting included, started once for the folder.

If the emulators, the page's build or Chromium are missing or cannot start, each test fails
with the reason: nothing is skipped.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterator

import pytest

from tests.emulator_session import emulators_for_package
from tools.browser import CHROMIUM_ARGS, chromium_executable
from tools.emulators import ENDPOINTS, ROOT

LOG_PATH = ROOT / ".cache" / "emulators-browser.log"
ARTIFACTS = ROOT / ".cache" / "browser"
BUNDLE = ROOT / "web" / "dist" / "app.js"
PAGE_URL = f"http://{ENDPOINTS['hosting'].address}/"
DEMO_EMAIL, DEMO_PASSWORD = "demo@example.com", "demo-password"
TIMEOUT_MS = 60_000
TRADE_ID = re.compile(r"Trade id: (\S+)")


def chromium_path() -> str:
    path = chromium_executable()
    if path is None:
        pytest.fail(
            "Chromium is not installed (/usr/bin/chromium): run `make setup`, which installs "
            "Debian's chromium package",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="package", autouse=True)
def emulators() -> Iterator[None]:
    if not BUNDLE.exists():
        pytest.fail(f"the web app is not built ({BUNDLE}): run `make setup`", pytrace=False)
    with emulators_for_package(LOG_PATH, only="auth,firestore,functions,hosting"):
        yield


@pytest.fixture(scope="package")
def db(emulators):
    from smart_routing_firebase.platform.app import firestore_client

    return firestore_client()


@pytest.fixture(scope="package")
def playwright_instance(emulators):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def open_page(playwright_instance) -> Iterator[Callable[..., object]]:
    """Open the page in a new Chromium with a fresh user-data-dir (a new browser profile: no
    one signed in); each call is another browser, so two users can be side by side."""
    contexts = []
    folders = []

    def open_one(width: int = 1280, height: int = 900):
        folder = tempfile.mkdtemp(prefix="chromium-profile-")
        folders.append(folder)
        try:
            context = playwright_instance.chromium.launch_persistent_context(
                folder,
                executable_path=chromium_path(),
                args=CHROMIUM_ARGS,
                headless=True,
                viewport={"width": width, "height": height},
            )
        except Exception as exc:
            pytest.fail(f"Chromium could not start: {exc}", pytrace=False)
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.pages[0] if context.pages else context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.page_errors = errors
        page.goto(PAGE_URL)
        return page

    yield open_one
    for context in contexts:
        context.close()
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def sign_in(page, email: str, password: str, expect: str = "Trading for") -> None:
    from playwright.sync_api import expect as expect_that

    page.get_by_test_id("email").fill(email)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("sign-in").click()
    expect_that(page.get_by_test_id("auth-message")).to_contain_text(expect)
    expect_that(page.get_by_test_id("sign-out")).to_be_visible()


def fill_ticket(page, symbol: str, qty: str, side: str = "buy") -> None:
    page.get_by_test_id("ticket-symbol").fill(symbol)
    page.get_by_test_id("ticket-qty").fill(qty)
    page.get_by_test_id("ticket-side").select_option(side)
    page.get_by_test_id("ticket-strategy").select_option("manual")


def submitted_trade_id(page) -> str:
    """The trade id the ticket's submit result shows, once it shows one."""
    from playwright.sync_api import expect as expect_that

    result = page.get_by_test_id("submit-result")
    expect_that(result).to_contain_text("Trade id:")
    return TRADE_ID.search(result.inner_text()).group(1)
