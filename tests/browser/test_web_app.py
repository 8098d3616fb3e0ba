"""The web app end to end in headless Chromium: sign in, preview and submit, live history and
positions, one order per double click, each user's own rows only, the no-tenant message,
paging, 360 px and the keyboard, and a screenshot of the main view."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

from google.cloud.firestore_v1.base_query import FieldFilter
from playwright.sync_api import expect

from tests.browser.conftest import (
    ARTIFACTS,
    DEMO_EMAIL,
    DEMO_PASSWORD,
    fill_ticket,
    sign_in,
    submitted_trade_id,
)
from tools.emulator_client import call, new_user


def ledger_trades(db, tenant: str, uid: str) -> list[dict]:
    trades = (
        db.collection(f"tenants/{tenant}/ledger_trades")
        .where(filter=FieldFilter("uid", "==", uid))
        .get()
    )
    return [trade.to_dict() for trade in trades]


def test_the_demo_user_signs_in_and_is_enabled_for_trading(open_page):
    page = open_page()
    expect(page.get_by_test_id("auth-message")).to_contain_text("Sign in")
    sign_in(page, DEMO_EMAIL, DEMO_PASSWORD)
    expect(page.get_by_test_id("auth-message")).to_have_text("Trading for demo-tenant.")
    expect(page.get_by_test_id("ticket-submit")).to_be_enabled()
    expect(page.get_by_test_id("sign-in")).to_be_hidden()
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("sign-in")).to_be_visible()
    expect(page.get_by_test_id("history-row")).to_have_count(0)
    assert page.page_errors == []


def test_preview_explains_a_wait_in_words(open_page):
    page = open_page()
    sign_in(page, DEMO_EMAIL, DEMO_PASSWORD)
    fill_ticket(page, "BTC/USD", "0.1")
    page.get_by_test_id("ticket-preview").click()
    preview = page.get_by_test_id("preview-result")
    expect(preview).to_contain_text("Wait: the order is held back, nothing is sent.")
    # The seed's quote: 49,950 / 50,050 is a 0.20% spread, above the 0.10% default (0.15% in
    # the crypto_weekend session).
    if datetime.now(UTC).weekday() < 5:
        expect(preview).to_contain_text("Spread 0.20% is above the threshold 0.10%")
        expect(preview).to_contain_text("set by the default for this asset class")
    else:
        expect(preview).to_contain_text("Spread 0.20% is above the threshold 0.15%")
        expect(preview).to_contain_text(
            "set by the default for this asset class, x1.5 in the crypto_weekend session"
        )
    expect(preview).to_contain_text("bid 49,950 / ask 50,050 USD")
    expect(preview).to_contain_text("Estimated cost of crossing the spread: 5.00 USD")
    expect(preview).to_contain_text("estimated fees:")
    expect(preview).to_contain_text("All amounts in USD.")
    expect(page.get_by_test_id("submit-result")).to_be_empty()


def test_preview_and_submit_a_buy_then_history_and_position_appear_live(open_page, db):
    page = open_page()
    sign_in(page, DEMO_EMAIL, DEMO_PASSWORD)
    fill_ticket(page, "MSFT", "2")
    page.get_by_test_id("ticket-preview").click()
    preview = page.get_by_test_id("preview-result")
    expect(preview).to_contain_text("Execute: the order would be sent now.")
    expect(preview).to_contain_text("is within the threshold")
    expect(preview).to_contain_text("All amounts in USD.")
    assert (
        not db.collection("tenants/demo-tenant/ledger_trades")
        .where(filter=FieldFilter("symbol", "==", "MSFT"))
        .get()
    ), "a preview must place nothing"

    page.get_by_test_id("ticket-submit").click()
    expect(page.get_by_test_id("submit-result")).to_contain_text("Status: filled")
    trade_id = submitted_trade_id(page)
    expect(page.get_by_test_id("submit-result")).to_contain_text("Order id:")

    # No reload: the snapshot listeners bring the mirrored history row and the position.
    row = page.locator(f'[data-testid="history-row"][data-trade-id="{trade_id}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text("MSFT")
    expect(row).to_contain_text("buy")
    position = page.locator('[data-testid="position-row"][data-symbol="MSFT"]')
    expect(position.get_by_test_id("position-qty")).to_have_text("2")
    stored = db.document("users/demo-user/portfolio/positions/symbols/MSFT").get().to_dict()
    assert stored["qty"] == 2
    ledger = db.document(f"tenants/demo-tenant/ledger_trades/{trade_id}").get().to_dict()
    expect(row).to_contain_text(f"{ledger['price']:,}")
    # Unrealized P&L from the preview's quote is shown, signed, in the position's currency.
    expect(position).to_contain_text(re.compile(r"[+-]?\d[\d,]*\.\d\d USD"))
    expect(page.get_by_test_id("realized-pnl")).to_contain_text("USD")
    assert page.page_errors == []


def test_a_double_clicked_submit_places_one_order(open_page, db, emulators):
    tenant = f"web-{uuid.uuid4().hex[:8]}"
    user = new_user(tenant)
    page = open_page()
    sign_in(page, user.email, user.password)
    fill_ticket(page, "IBM", "1")
    page.get_by_test_id("ticket-submit").dblclick()
    expect(page.get_by_test_id("submit-result")).to_contain_text("Status: filled")
    trade_id = submitted_trade_id(page)
    expect(page.get_by_test_id("ticket-submit")).to_be_enabled()
    time.sleep(2)  # any second order would have been committed by now
    trades = ledger_trades(db, tenant, user.uid)
    assert [trade["trade_id"] for trade in trades] == [trade_id]
    assert len(db.collection(f"tenants/{tenant}/orders").get()) == 1
    expect(page.get_by_test_id("history-row")).to_have_count(1)

    # The next click is a new order with a new key.
    page.get_by_test_id("ticket-submit").click()
    expect(page.get_by_test_id("submit-result")).not_to_contain_text(trade_id)
    expect(page.get_by_test_id("history-row")).to_have_count(2)
    assert len(ledger_trades(db, tenant, user.uid)) == 2


def test_a_second_user_cannot_see_the_first_users_rows(open_page, db):
    tenant = f"web-{uuid.uuid4().hex[:8]}"
    first, second = new_user(tenant), new_user(tenant)
    placed = call("execute_strategy", {"strategy_id": "manual", "symbol": "KO", "qty": 3,
                                       "side": "buy", "idempotency_key": uuid.uuid4().hex},
                  first.id_token)  # fmt: skip
    assert placed.result and placed.result["status"] == "filled", placed

    first_page = open_page()
    sign_in(first_page, first.email, first.password)
    expect(first_page.get_by_test_id("history-row")).to_have_count(1)
    expect(first_page.locator('[data-testid="position-row"][data-symbol="KO"]')).to_be_visible()

    page = open_page()
    sign_in(page, second.email, second.password)
    expect(page.locator("#history-message")).to_have_text("No trades yet.")
    expect(page.get_by_test_id("history-row")).to_have_count(0)
    expect(page.get_by_test_id("position-row")).to_have_count(0)
    # The same browser SDK, asked for the first user's paths, is refused by the rules.
    for path in (
        f"users/{first.uid}/portfolio/history/trades",
        f"users/{first.uid}/portfolio/positions/symbols",
        f"users/{first.uid}/portfolio/account",
        f"users/{first.uid}/portfolio/lots/symbols",
        f"tenants/{tenant}/ledger_trades",
    ):
        answer = page.evaluate("path => window.firestoreProbe.read(path)", path)
        assert answer == {"ok": False, "code": "permission-denied"}, (path, answer)
    own = page.evaluate(
        "path => window.firestoreProbe.read(path)", f"users/{second.uid}/portfolio/history/trades"
    )
    assert own == {"ok": True, "count": 0}


def history_record(uid: str, trade_id: str, at: datetime, qty: float = 1) -> dict:
    return {"trade_id": trade_id, "tenant_id": None, "symbol": "AAPL", "asset_class": "EQUITY",
            "side": "buy", "qty": qty, "price": 100.01, "notional": round(100.01 * qty, 2),
            "currency": "USD", "timestamp": at, "trading_date": at.date().isoformat(),
            "strategy_id": "manual", "estimated_slippage": 0.0001, "fees": 0}  # fmt: skip


def test_a_user_without_a_tenant_claim_sees_the_message_and_their_history(open_page, db):
    user = new_user()  # no tenant_id claim
    db.document(f"users/{user.uid}/portfolio/history/trades/old-1").set(
        history_record(user.uid, "old-1", datetime(2024, 3, 1, 15, tzinfo=UTC))
    )
    page = open_page()
    sign_in(page, user.email, user.password, expect="not enabled for trading")
    expect(page.get_by_test_id("auth-message")).to_contain_text("You can still read your own")
    expect(page.get_by_test_id("ticket-submit")).to_be_disabled()
    expect(page.get_by_test_id("ticket-preview")).to_be_disabled()
    row = page.get_by_test_id("history-row")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-trade-id", "old-1")
    expect(row).to_contain_text("2024-03-01 15:00:00")


def test_history_pages_past_50_rows_newest_first(open_page, db):
    user = new_user(f"web-{uuid.uuid4().hex[:8]}")
    start = datetime(2025, 1, 2, 14, tzinfo=UTC)
    batch = db.batch()
    for n in range(120):
        trade_id = f"t{n:04d}"
        at = start + timedelta(minutes=n)
        batch.set(db.document(f"users/{user.uid}/portfolio/history/trades/{trade_id}"),
                  history_record(user.uid, trade_id, at))  # fmt: skip
    batch.commit()
    page = open_page()
    sign_in(page, user.email, user.password)
    rows = page.get_by_test_id("history-row")
    expect(rows).to_have_count(50)
    expect(rows.first).to_have_attribute("data-trade-id", "t0119")
    expect(rows.last).to_have_attribute("data-trade-id", "t0070")
    page.get_by_role("button", name="Older").click()
    expect(rows.first).to_have_attribute("data-trade-id", "t0069")
    expect(rows).to_have_count(50)
    page.get_by_role("button", name="Older").click()
    expect(rows).to_have_count(20)
    expect(rows.last).to_have_attribute("data-trade-id", "t0000")
    expect(page.get_by_role("button", name="Older")).to_be_disabled()
    page.get_by_role("button", name="Newer").click()
    page.get_by_role("button", name="Newer").click()
    expect(rows.first).to_have_attribute("data-trade-id", "t0119")
    # A new trade arrives live on the first page.
    db.document(f"users/{user.uid}/portfolio/history/trades/t9999").set(
        history_record(user.uid, "t9999", start + timedelta(days=1))
    )
    expect(rows.first).to_have_attribute("data-trade-id", "t9999")


def test_keyboard_labels_and_360_px(open_page):
    page = open_page(width=360, height=740)
    # Every control is labelled: found by its label, as a screen reader names it.
    page.get_by_label("Email").focus()
    page.keyboard.type(DEMO_EMAIL)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("auth-message")).to_contain_text("Trading for demo-tenant")
    for label in ("Symbol", "Side", "Quantity", "Strategy"):
        expect(page.get_by_label(label)).to_be_visible()
    page.get_by_label("Quantity").fill("0")
    page.get_by_label("Quantity").focus()
    page.keyboard.press("Tab")  # Strategy
    page.keyboard.press("Tab")  # Preview
    expect(page.get_by_test_id("ticket-preview")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("preview-result")).to_have_text(
        "Quantity: enter a number above zero."
    )
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 360, f"the page is {overflow}px wide at a 360px viewport"


def test_a_screenshot_of_the_main_view(open_page):
    page = open_page(width=1280, height=900)
    sign_in(page, DEMO_EMAIL, DEMO_PASSWORD)
    fill_ticket(page, "AAPL", "1")
    page.get_by_test_id("ticket-preview").click()
    expect(page.get_by_test_id("preview-result")).to_contain_text("Execute")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "main-view.png"
    path.unlink(missing_ok=True)
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000


def test_the_user_sees_the_trading_state_that_binds_them_live(open_page, db):
    """The kill switch as the user sees it: their tenant's state and their own, the stricter
    shown with its reason, updated live as the admin changes it."""
    tenant = f"tenant-{uuid.uuid4().hex[:8]}"
    user = new_user(tenant)
    page = open_page()
    sign_in(page, user.email, user.password)
    shown = page.get_by_test_id("trading-state")
    expect(shown).to_have_text("Trading is active.")
    db.document(f"tenants/{tenant}/user_trading_states/{user.uid}").set(
        {"state": "reducing", "reason": "risk review"}
    )
    expect(shown).to_contain_text("Trading is reducing")
    expect(shown).to_contain_text("Set for your account: risk review.")
    db.document(f"tenants/{tenant}/settings/trading_state").set(
        {"state": "halted", "reason": "venue outage"}
    )
    expect(shown).to_have_text(
        "Trading is halted: no new orders are accepted. Set for your platform: venue outage."
    )
    assert page.page_errors == []
