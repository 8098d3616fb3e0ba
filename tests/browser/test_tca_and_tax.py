"""Execution quality and the realized-gains export in the browser: one chart mark per trade,
and a CSV whose rows agree with the sells' `lots_consumed` in Firestore to the cent."""

from __future__ import annotations

import csv
import io
import uuid
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import fill_ticket, sign_in, submitted_trade_id
from tools.emulator_client import call, new_user
from tools.waiting import wait_until

MIRROR_TIMEOUT_S = 60
CENT = Decimal("0.01")


def place(user, side: str, qty: int) -> str:
    placed = call("execute_strategy", {"strategy_id": "manual", "symbol": "AAPL", "qty": qty,
                                       "side": side, "idempotency_key": uuid.uuid4().hex},
                  user.id_token)  # fmt: skip
    assert placed.result and placed.result["status"] == "filled", placed
    return placed.result["trade_id"]


def mirrored(db, uid: str, trade_id: str) -> dict:
    ref = db.document(f"users/{uid}/portfolio/history/trades/{trade_id}")
    snapshot = wait_until(
        lambda: (found := ref.get()).exists and found,
        MIRROR_TIMEOUT_S,
        interval_s=0.25,
        describe=lambda _: f"history record {trade_id} was not mirrored",
    )
    return snapshot.to_dict()


def d(value) -> Decimal:
    return Decimal(repr(value))  # the stored double's shortest text: the backend's decimal


def expected_rows(sale: dict) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(proceeds, cost, gain) per lot: the sale's proceeds (realized_gain + cost_basis) shared
    by quantity, rounded half-even to the cent, the last lot taking the rest."""
    lots = sale["lots_consumed"]
    proceeds = d(sale["realized_gain"]) + d(sale["cost_basis"])
    matched = sum(d(lot["qty"]) for lot in lots)
    left, rows = proceeds, []
    for index, lot in enumerate(lots):
        share = (
            left
            if index == len(lots) - 1
            else (proceeds * d(lot["qty"]) / matched).quantize(CENT, ROUND_HALF_EVEN)
        )
        left -= share
        rows.append((share, d(lot["cost"]), share - d(lot["cost"])))
    return rows


def test_chart_marks_and_the_realized_gains_csv_match_the_lots(open_page, db):
    user = new_user(f"web-{uuid.uuid4().hex[:8]}")
    buys = [place(user, "buy", 1), place(user, "buy", 2)]
    for trade_id in buys:
        mirrored(db, user.uid, trade_id)
    page = open_page()
    sign_in(page, user.email, user.password)
    # The sale goes through the page's own ticket: all of the first lot, half of the second.
    fill_ticket(page, "AAPL", "2", side="sell")
    page.get_by_test_id("ticket-submit").click()
    sell = submitted_trade_id(page)
    sale = mirrored(db, user.uid, sell)
    lots = sale["lots_consumed"]
    assert [lot["trade_id"] for lot in lots] == buys, lots
    year = sale["trading_date"][:4]
    chart = page.get_by_test_id("tca-chart")
    expect(chart.get_by_test_id("tca-mark")).to_have_count(3)
    for trade_id in [*buys, sell]:
        expect(
            chart.locator(f'[data-testid="tca-mark"][data-trade-id="{trade_id}"]')
        ).to_have_count(1)
    expect(page.locator("#tca-figures")).to_contain_text("Fills: 3")
    row = page.locator(f'[data-testid="history-row"][data-trade-id="{sell}"]')
    expect(row).to_contain_text("bps")

    page.get_by_test_id("tax-year").select_option(year)
    with page.expect_download() as download_info:
        page.get_by_test_id("export-tax-csv").click()
    download = download_info.value
    assert download.suggested_filename == f"realized-gains-{year}.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(lots) == 2, text

    for got, lot, (proceeds, cost, gain) in zip(rows, lots, expected_rows(sale), strict=True):
        assert got["Sale trade id"] == sell and got["Lot trade id"] == lot["trade_id"]
        assert got["Description"] == f"{d(lot['qty']).normalize():f} AAPL"
        assert got["Date sold"] == sale["trading_date"]
        buy = db.document(f"users/{user.uid}/portfolio/history/trades/{lot['trade_id']}").get()
        assert got["Date acquired"] == buy.get("trading_date")
        assert got["Term"] == lot["term"] == "short"
        assert got["Currency"] == sale["currency"] == "USD"
        assert Decimal(got["Proceeds"]) == proceeds
        assert Decimal(got["Cost basis"]) == cost
        assert Decimal(got["Gain or loss"]) == gain
        for column in ("Proceeds", "Cost basis", "Gain or loss"):
            assert Decimal(got[column]) == Decimal(got[column]).quantize(CENT), got
    # The rows add up to the record, to the cent.
    assert sum(Decimal(r["Cost basis"]) for r in rows) == d(sale["cost_basis"])
    assert sum(Decimal(r["Gain or loss"]) for r in rows) == d(sale["realized_gain"])

    # Another year has no closed lots: a header only.
    page.get_by_test_id("tax-year").select_option(str(int(year) - 1))
    with page.expect_download() as download_info:
        page.get_by_test_id("export-tax-csv").click()
    lines = Path(download_info.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines == [lines[0]] and lines[0].startswith("Description,Date acquired,Date sold")
    assert page.page_errors == []


def test_the_downgrade_and_fill_rates_come_from_the_users_own_decisions(open_page, db):
    user = new_user(f"web-{uuid.uuid4().hex[:8]}")
    other = new_user(f"web-{uuid.uuid4().hex[:8]}")
    held = {"strategy_id": "manual", "symbol": "BTC/USD", "qty": 0.5, "side": "buy"}
    for who, data in ((user, held), (other, held), (other, held)):  # BTC/USD's spread: WAIT
        outcome = call("execute_strategy", {**data, "idempotency_key": uuid.uuid4().hex},
                       who.id_token)  # fmt: skip
        assert outcome.result["status"] == "downgraded", outcome
    mirrored(db, user.uid, place(user, "buy", 1))

    page = open_page()
    sign_in(page, user.email, user.password)
    # One of this user's two decisions was held back; the other user's are not counted.
    expect(page.get_by_test_id("tca-downgrade-rate")).to_contain_text("Downgrade rate: 50.0%")
    expect(page.get_by_test_id("tca-downgrade-rate")).to_contain_text("1 of your last 2")
    expect(page.get_by_test_id("tca-fill-rate")).to_contain_text("Fill rate: 100.0%")
    expect(page.locator("#tca-figures")).not_to_contain_text("not shown here")
    assert page.page_errors == []
