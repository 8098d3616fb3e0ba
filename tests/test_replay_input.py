"""Bad input to the replay: bad rows are counted by reason and skipped, bad files are a clear
error with exit code 2 and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from smart_routing.cli import main
from smart_routing.config.engine_config import load_config
from smart_routing.replay.accounting import Policy
from smart_routing.replay.run import Settings, replay
from tests.test_replay import ORDERS_HEADER, QUOTES_HEADER, at, write

BAD_QUOTES = {
    f"{at(0)},AAPL,101,100": "crossed",
    f"{at(0)},AAPL,0,100": "price_not_positive",
    f"{at(0)},AAPL,-1,100": "price_not_positive",
    f"{at(0)},AAPL,nan,100": "price_not_finite",
    f"{at(0)},AAPL,100,inf": "price_not_finite",
    f"{at(0)},???,100,101": "symbol_unknown",
    "yesterday,AAPL,100,101": "timestamp_unparseable",
    "2026-04-20T14:00:00,AAPL,100,101": "timestamp_without_offset",
    f"{at(0)},AAPL,abc,101": "price_unparseable",
    f"{at(0)},AAPL,,101": "price_unparseable",
    f"{at(0)},AAPL,100": "wrong_number_of_fields",
    "a,b,c,d,e": "wrong_number_of_fields",
    f"{at(0)},AAPL,100.12345678901234567,101": "price_precision",
}


def replay_files(quotes: Path, orders: Path, policies=(Policy.MARKET,)) -> dict:
    settings = Settings(policies=policies, horizon_s=300, ttl_s=60)
    return replay(quotes, orders, settings, load_config({}, smart_routing_default=True)).summary()


def test_each_bad_quote_row_is_counted_under_its_reason_and_never_priced(tmp_path: Path):
    # 200 good quotes, the last at one second before the order; each bad row is at the
    # order's time or says nothing usable, so any of them taken would change the arrival.
    good = [f"{at(-200 + i)},AAPL,{100 + i / 100:.2f},{100.02 + i / 100:.2f}" for i in range(200)]
    rows = good[:100] + list(BAD_QUOTES) + good[100:]
    quotes = write(tmp_path / "q.csv", QUOTES_HEADER, rows)
    orders = write(tmp_path / "o.csv", ORDERS_HEADER, [f"{at(0)},AAPL,buy,1"])
    summary = replay_files(quotes, orders)
    expected: dict[str, int] = {}
    for reason in BAD_QUOTES.values():
        expected[reason] = expected.get(reason, 0) + 1
    assert summary["quotes"] == {"rows": 213, "used": 200, "skipped": expected}
    market = summary["policies"]["market"]
    assert market["filled_notional_usd"] == 102.01  # the ask of the last good quote


def test_a_bad_size_is_a_bad_row_and_an_empty_size_is_no_size(tmp_path: Path):
    header = "timestamp,symbol,bid,ask,bid_size,ask_size"
    rows = [f"{at(-2)},AAPL,10.00,10.02,5,-5", f"{at(-1)},AAPL,10.00,10.04,5,"]
    quotes = write(tmp_path / "q.csv", header, rows)
    orders = write(tmp_path / "o.csv", ORDERS_HEADER, [f"{at(0)},AAPL,buy,100"])
    summary = replay_files(quotes, orders)
    assert summary["quotes"]["skipped"] == {"size_invalid": 1}
    # No size at the touch: the whole order at the ask, no impact.
    assert summary["policies"]["market"]["filled_notional_usd"] == 1004.0


def test_each_bad_order_row_is_counted_and_left_out(tmp_path: Path):
    quotes = write(tmp_path / "q.csv", QUOTES_HEADER, [f"{at(-1)},AAPL,10.00,10.02"])
    bad = {
        f"{at(0)},AAPL,hold,1": "side_invalid",
        f"{at(0)},AAPL,buy,-1": "qty_invalid",
        f"{at(0)},AAPL,buy,abc": "qty_invalid",
        f"{at(0)},AAPL,buy,nan": "qty_invalid",
        f"{at(0)},AAPL260619C00200000,buy,1.5": "qty_off_grid",
        f"{at(0)},???,buy,1": "symbol_unknown",
        "2026-04-20T14:00:00,AAPL,buy,1": "timestamp_without_offset",
        "soon,AAPL,buy,1": "timestamp_unparseable",
        f"{at(0)},AAPL,buy": "wrong_number_of_fields",
    }
    orders = write(tmp_path / "o.csv", ORDERS_HEADER, [*bad, f"{at(0)},AAPL,buy,3"])
    settings = Settings(policies=(Policy.MARKET,), horizon_s=300, ttl_s=60)
    result = replay(quotes, orders, settings, load_config({}, smart_routing_default=True))
    summary = result.summary()
    expected: dict[str, int] = {}
    for reason in bad.values():
        expected[reason] = expected.get(reason, 0) + 1
    assert summary["orders"] == {"rows": 10, "used": 1, "skipped": expected}
    assert summary["policies"]["market"]["filled_notional_usd"] == 30.06
    assert [order.row for order in result.orders] == [11]  # its line, past the short row


def test_an_order_without_an_earlier_quote_of_its_symbol_is_unfilled_under_every_policy(
    tmp_path: Path,
):
    quotes = write(tmp_path / "q.csv", QUOTES_HEADER, [f"{at(10)},AAPL,10.00,10.02"])
    orders = write(
        tmp_path / "o.csv", ORDERS_HEADER, [f"{at(0)},AAPL,buy,1", f"{at(20)},TSLA,buy,1"]
    )
    summary = replay_files(quotes, orders, tuple(Policy))
    for figures in summary["policies"].values():
        assert (figures["orders"], figures["filled"], figures["no_quote"]) == (2, 0, 2)
        assert figures["implementation_shortfall_bps"] is None


def cli(tmp_path: Path, quotes: Path, orders: Path, *extra: str) -> int:
    return main([
        "replay", "--quotes", str(quotes), "--orders", str(orders),
        "--fills", str(tmp_path / "fills.csv"), "--report", str(tmp_path / "report.html"), *extra,
    ])  # fmt: skip


@pytest.mark.parametrize(
    ("quotes_text", "orders_text", "message"),
    [
        ("timestamp,symbol,bid\n1,2,3\n", "timestamp,symbol,side,qty\n", "missing column(s) ask"),
        (
            f"{QUOTES_HEADER}\n{at(0)},AAPL,1,2\n",
            "timestamp,symbol,side\nx,y,z\n",
            "missing column(s) qty",
        ),
        ("", f"{ORDERS_HEADER}\n{at(0)},AAPL,buy,1\n", "the file is empty"),
        (
            f"{QUOTES_HEADER}\n",
            f"{ORDERS_HEADER}\n{at(0)},AAPL,buy,1\n",
            "has a header but no rows",
        ),
        (f"{QUOTES_HEADER}\n{at(0)},AAPL,1,2\n", f"{ORDERS_HEADER}\n", "has a header but no rows"),
    ],
)
def test_a_file_the_replay_cannot_read_exits_2_and_writes_nothing(
    tmp_path: Path, capsys, quotes_text: str, orders_text: str, message: str
):
    quotes, orders = tmp_path / "q.csv", tmp_path / "o.csv"
    quotes.write_text(quotes_text)
    orders.write_text(orders_text)
    assert cli(tmp_path, quotes, orders) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
    assert not (tmp_path / "fills.csv").exists() and not (tmp_path / "report.html").exists()


def test_a_missing_file_exits_2(tmp_path: Path, capsys):
    orders = write(tmp_path / "o.csv", ORDERS_HEADER, [f"{at(0)},AAPL,buy,1"])
    assert cli(tmp_path, tmp_path / "nowhere.csv", orders) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra", [("--policy", "twap"), ("--horizon-s", "-5"), ("--ttl-s", "0"), ("--ttl-s", "x")]
)
def test_a_bad_option_exits_2(tmp_path: Path, capsys, extra: tuple[str, str]):
    quotes = write(tmp_path / "q.csv", QUOTES_HEADER, [f"{at(0)},AAPL,1,2"])
    orders = write(tmp_path / "o.csv", ORDERS_HEADER, [f"{at(0)},AAPL,buy,1"])
    with pytest.raises(SystemExit) as exited:
        cli(tmp_path, quotes, orders, *extra)
    assert exited.value.code == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "fills.csv").exists()


def test_the_replay_stops_rather_than_screen_out_a_quote_the_gate_could_pass(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
):
    """A gate threshold above the pre-screen's bound (here: a margin below 1) is an error."""
    from smart_routing.replay import gatekeeper

    monkeypatch.setattr(gatekeeper, "SCREEN_MARGIN", 0.5)
    quotes = write(tmp_path / "q.csv", QUOTES_HEADER, [f"{at(0)},AAPL,10.00,10.02"])
    orders = write(tmp_path / "o.csv", ORDERS_HEADER, [f"{at(0)},AAPL,buy,1"])
    assert cli(tmp_path, quotes, orders) == 2
    assert "raise SCREEN_MARGIN" in capsys.readouterr().err
    assert not (tmp_path / "fills.csv").exists()


def test_a_byte_order_mark_is_not_part_of_the_first_column_name(tmp_path: Path):
    quotes = tmp_path / "q.csv"
    quotes.write_bytes(b"\xef\xbb\xbf" + f"{QUOTES_HEADER}\n{at(0)},AAPL,10.00,10.02\n".encode())
    orders = write(tmp_path / "o.csv", ORDERS_HEADER, [f"{at(1)},AAPL,buy,1"])
    assert replay_files(quotes, orders)["policies"]["market"]["filled"] == 1
