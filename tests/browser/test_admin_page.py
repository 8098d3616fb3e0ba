"""The tenant admin's page in Chromium on the emulators: an admin sees the tenant's state, its
users, the tca_daily charts, recent orders and the audit log, and flips the tenant's state
through a confirmation that asks for a reason (the audit entry appears, live); a plain user of
the same tenant sees none of it, and the rules refuse them the admin's documents."""

from __future__ import annotations

import uuid

import pytest
from firebase_admin import auth
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, sign_in
from tools.emulator_client import call, new_user
from tools.emulator_client import sign_in as sign_in_api

# Two days of a tenant's roll-up, in roll_up()'s shape (functions/smart_routing/tca/daily.py).
TCA_DAYS = {
    "2026-03-02": {
        "total": {"downgrade_rate": 0.25, "estimated_slippage_bps": {"n": 4, "mean": 4.0},
                  "realized_slippage_bps": {"n": 4, "mean": 3.5}, "cost_saved": {"USD": 12.5}},
        "by_asset_class": {"crypto": {"orders": 3, "filled_orders": 3, "volume": {"USD": 1000.0}},
                           "equity": {"orders": 2, "filled_orders": 1, "volume": {"USD": 200.25}}},
    },
    "2026-03-03": {
        "total": {"downgrade_rate": 0.5, "estimated_slippage_bps": {"n": 1, "mean": 2.0},
                  "realized_slippage_bps": {"n": 1, "mean": 2.5}, "cost_saved": {}},
        "by_asset_class": {"equity": {"orders": 2, "filled_orders": 2, "volume": {"USD": 99.75}}},
    },
}  # fmt: skip
ADMIN_PATHS = ("audit_log", "orders", "tca_daily", "user_trading_states")


@pytest.fixture
def tenant(db):
    """A tenant with a user who has placed an order, two days of roll-up, and its admin."""
    tenant_id = f"admin-{uuid.uuid4().hex[:8]}"
    trader = new_user(tenant_id)
    order = {"strategy_id": "manual", "symbol": "AAPL", "qty": 1, "side": "buy",
             "idempotency_key": "admin-page"}  # fmt: skip
    assert call("execute_strategy", order, trader.id_token).result["status"] == "filled"
    for day, document in TCA_DAYS.items():
        db.document(f"tenants/{tenant_id}/tca_daily/{day}").set({"date": day, **document})
    admin = new_user()
    auth.set_custom_user_claims(admin.uid, {"tenant_id": tenant_id, "role": "admin"})
    return tenant_id, trader, sign_in_api(admin.email, admin.password)


def test_the_admin_sees_the_page_and_halts_the_tenant_with_a_reason(open_page, db, tenant):
    tenant_id, trader, admin = tenant
    page = open_page()
    sign_in(page, admin.email, admin.password)
    expect(page.get_by_test_id("admin-page")).to_be_visible()
    expect(page.get_by_test_id("admin-tenant-state")).to_contain_text("trading is active")
    order_row = page.get_by_test_id("admin-order-row")
    expect(order_row).to_have_count(1)
    expect(order_row).to_contain_text(trader.uid)
    expect(order_row.get_by_test_id("admin-order-status")).to_have_text("filled")
    expect(
        page.locator(f'[data-testid="admin-user-row"][data-uid="{trader.uid}"]')
    ).to_contain_text("active")
    charts = {
        "admin-chart-downgrade-rate": ["2026-03-02", "2026-03-03"],
        "admin-chart-slippage": ["2026-03-02", "2026-03-03"],
        "admin-chart-cost-saved": ["2026-03-02", "2026-03-03"],
        "admin-chart-volume": ["crypto (USD)", "equity (USD)"],
        "admin-chart-fill-rate": ["crypto", "equity"],
    }
    for chart, labels in charts.items():
        groups = page.get_by_test_id(chart).get_by_test_id("admin-bar-group")
        expect(groups).to_have_count(len(labels))
        assert [groups.nth(i).get_attribute("data-label") for i in range(len(labels))] == labels
    equity_fills = page.locator('[data-testid="admin-chart-fill-rate"] [data-label="equity"] rect')
    expect(equity_fills).to_have_attribute("data-value", "0.75")  # 3 of 4 over the two days
    realized = page.locator('[data-testid="admin-chart-slippage"] [data-label="2026-03-02"] rect')
    assert [realized.nth(i).get_attribute("data-value") for i in range(2)] == ["4", "3.5"]

    page.get_by_test_id("admin-state-choice").select_option("halted")
    page.get_by_test_id("admin-state-change").click()
    dialog = page.get_by_test_id("admin-dialog")
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("admin-dialog-question")).to_contain_text("the whole tenant")
    page.get_by_test_id("admin-confirm").click()  # no reason yet
    expect(page.get_by_test_id("admin-dialog-message")).to_contain_text("Give a reason")
    expect(dialog).to_be_visible()
    page.get_by_test_id("admin-reason").fill("venue outage drill")
    page.get_by_test_id("admin-confirm").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("admin-state-message")).to_contain_text("now halted (was active)")
    expect(page.get_by_test_id("admin-tenant-state")).to_contain_text("halted")
    audit_row = page.get_by_test_id("admin-audit-row")
    expect(audit_row).to_have_count(1)
    expect(audit_row.get_by_test_id("admin-audit-reason")).to_have_text("venue outage drill")
    expect(audit_row).to_contain_text("active → halted")
    (entry,) = [d.to_dict() for d in db.collection(f"tenants/{tenant_id}/audit_log").stream()]
    assert (entry["by"], entry["to"]) == (admin.uid, "halted")
    assert entry["reason"] == "venue outage drill"
    assert db.document(f"tenants/{tenant_id}/settings/trading_state").get().get("state") == "halted"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-page.png"), full_page=True)
    assert page.page_errors == []


def test_the_admin_sets_a_users_state_from_their_row(open_page, db, tenant):
    tenant_id, trader, admin = tenant
    page = open_page()
    sign_in(page, admin.email, admin.password)
    row = page.locator(f'[data-testid="admin-user-row"][data-uid="{trader.uid}"]')
    row.get_by_test_id("admin-user-state-choice").select_option("reducing")
    row.get_by_test_id("admin-user-change").click()
    expect(page.get_by_test_id("admin-dialog-question")).to_contain_text(f"user {trader.uid}")
    page.get_by_test_id("admin-reason").fill("position review")
    page.get_by_test_id("admin-confirm").click()
    expect(row.get_by_test_id("admin-user-state")).to_have_text("reducing")
    expect(page.get_by_test_id("admin-audit-row")).to_contain_text(f"user {trader.uid}")
    state = db.document(f"tenants/{tenant_id}/user_trading_states/{trader.uid}").get().to_dict()
    assert (state["state"], state["reason"]) == ("reducing", "position review")
    assert page.page_errors == []


def test_a_plain_user_sees_no_admin_page_and_cannot_read_its_documents(open_page, db, tenant):
    tenant_id, trader, _ = tenant
    page = open_page()
    sign_in(page, trader.email, trader.password)
    expect(page.get_by_test_id("trading-state")).to_be_visible()  # the page has loaded for them
    expect(page.get_by_test_id("admin-page")).to_be_hidden()
    expect(page.get_by_test_id("admin-order-row")).to_have_count(0)
    for collection in ADMIN_PATHS:
        answer = page.evaluate(
            "path => window.firestoreProbe.read(path)", f"tenants/{tenant_id}/{collection}"
        )
        assert answer == {"ok": False, "code": "permission-denied"}, collection
    assert page.page_errors == []
