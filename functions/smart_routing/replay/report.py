"""The replay's HTML report: the figures as tables and three charts (cost by policy, by hour
of day in New York, by asset class), drawn with matplotlib as inline SVG so the page is one
self-contained file. matplotlib is imported here only, when --report asks for a page."""

from __future__ import annotations

import io
from html import escape
from math import nan
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from smart_routing.replay.accounting import Policy, PolicyTallies
from smart_routing.replay.output import write_atomically

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from smart_routing.replay.run import ReplayResult

_COLORS = {Policy.MARKET: "#9e9e9e", Policy.WAIT: "#1f77b4", Policy.LIMIT: "#2ca02c"}
_COLUMNS = (
    ("orders", "orders"), ("filled", "filled"), ("fill_rate", "fill rate"),
    ("filled_notional_usd", "filled notional (USD)"), ("spread_cost_bps", "spread cost (bps)"),
    ("implementation_shortfall_bps", "shortfall (bps)"), ("mean_delay_s", "mean delay (s)"),
    ("no_quote", "no quote"), ("rejected", "rejected"), ("unconverted", "unconverted"),
)  # fmt: skip


def write_report(path: Path, result: ReplayResult, summary: dict[str, object]) -> None:
    charts = [
        ("Cost by policy", _by_policy(result.tallies)),
        ("Spread cost by hour of day (New York)", _by_hour(result.tallies)),
        ("Spread cost by asset class", _by_class(result.tallies)),
    ]
    page = _page(result, summary, charts)
    write_atomically(path, lambda out: _write(out, page))


def _write(out: TextIO, page: str) -> None:
    out.write(page)


def _figure() -> Figure:
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "replay"  # the same figures give the same page
    matplotlib.rcParams["svg.fonttype"] = "none"
    from matplotlib.figure import Figure

    return Figure(figsize=(7.5, 3.6), layout="constrained")


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _value(value: object) -> float:
    """A figure to draw: a figure with no fills behind it (None) draws nothing."""
    return value if isinstance(value, float) else nan


def _by_policy(tallies: dict[Policy, PolicyTallies]) -> str:
    figure = _figure()
    axes = figure.subplots()
    policies = list(tallies)
    for offset, (key, label) in enumerate(
        (("spread_cost_bps", "spread cost"), ("implementation_shortfall_bps", "shortfall"))
    ):
        values = [_value(tallies[p].total.figures()[key]) for p in policies]
        positions = [i + offset * 0.4 for i in range(len(policies))]
        bars = axes.bar(positions, values, width=0.4, label=label, alpha=0.6 + 0.4 * offset)
        axes.bar_label(bars, fmt="%.2f", fontsize=8)
    axes.set_xticks([i + 0.2 for i in range(len(policies))], [p.value for p in policies])
    axes.set_ylabel("bps of notional")
    axes.axhline(0, color="black", linewidth=0.6)
    axes.legend()
    return _svg(figure)


def _by_hour(tallies: dict[Policy, PolicyTallies]) -> str:
    figure = _figure()
    axes = figure.subplots()
    for policy, tally in tallies.items():
        points = [(h, tally.by_hour[h].figures()["spread_cost_bps"]) for h in sorted(tally.by_hour)]
        hours = [h for h, value in points if isinstance(value, float)]  # hours with a fill
        values = [value for _, value in points if isinstance(value, float)]
        axes.plot(hours, values, marker="o", label=policy.value, color=_COLORS[policy])
    axes.set_xlabel("hour of the order (New York)")
    axes.set_ylabel("spread cost (bps)")
    axes.set_xticks(range(0, 24, 2))
    axes.legend()
    return _svg(figure)


def _by_class(tallies: dict[Policy, PolicyTallies]) -> str:
    figure = _figure()
    axes = figure.subplots()
    classes = sorted({name for tally in tallies.values() for name in tally.by_class})
    width = 0.8 / max(1, len(tallies))
    for k, (policy, tally) in enumerate(tallies.items()):
        values = [
            _value(tally.by_class[c].figures()["spread_cost_bps"]) if c in tally.by_class else nan
            for c in classes
        ]
        positions = [i + k * width for i in range(len(classes))]
        axes.bar(positions, values, width=width, label=policy.value, color=_COLORS[policy])
    axes.set_xticks([i + 0.4 - width / 2 for i in range(len(classes))], classes)
    axes.set_yscale("symlog", linthresh=1)
    axes.set_ylabel("spread cost (bps, log)")
    axes.legend()
    return _svg(figure)


def _table(rows: dict[str, dict[str, object]]) -> str:
    head = "".join(f"<th>{escape(label)}</th>" for _, label in _COLUMNS)
    body = []
    for name, figures in rows.items():
        cells = "".join(f"<td>{_cell(figures.get(key))}</td>" for key, _ in _COLUMNS)
        body.append(f"<tr><th>{escape(name)}</th>{cells}</tr>")
    return f"<table><tr><th></th>{head}</tr>{''.join(body)}</table>"


def _cell(value: object) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    return escape(str(value))


def _intro(result: ReplayResult, summary: dict[str, object]) -> str:
    settings = result.settings
    items = [
        f"horizon {settings.horizon_s:g} s, limit time to live {settings.ttl_s:g} s",
        _counts_line("quotes", summary["quotes"]),
        _counts_line("orders", summary["orders"]),
    ]
    saved = summary["saved_vs_market_bps"]
    assert isinstance(saved, dict)
    for policy, figures in saved.items():
        items.append(
            f"{policy} saved {_cell(figures['spread_cost_bps'])} bps of spread cost and "
            f"{_cell(figures['implementation_shortfall_bps'])} bps of shortfall against market"
        )
    return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"


def _counts_line(what: str, counts: object) -> str:
    assert isinstance(counts, dict)
    skipped = ", ".join(f"{k} {v}" for k, v in counts["skipped"].items()) or "none"
    return f"{what}: {counts['rows']} rows, {counts['used']} used, skipped {skipped}"


def _page(result: ReplayResult, summary: dict[str, object], charts: list[tuple[str, str]]) -> str:
    policies = summary["policies"]
    assert isinstance(policies, dict)
    sections = [f"<h2>{escape(title)}</h2><figure>{svg}</figure>" for title, svg in charts]
    sections.append(f"<h2>All orders</h2>{_table(policies)}")
    for policy, figures in policies.items():
        by_class = _table(figures["by_asset_class"])
        sections.append(f"<h2>{escape(policy)} by asset class</h2>{by_class}")
    intro = _intro(result, summary)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Smart routing replay</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}"
        "table{border-collapse:collapse;font-size:0.85em}"
        "td,th{border:1px solid #ccc;padding:0.25em 0.5em;text-align:right}"
        "figure{margin:0}</style></head><body>"
        "<h1>Smart routing replay</h1>"
        f"{intro}{''.join(sections)}</body></html>\n"
    )
