"""The `replay` and `replay-sample` commands (arguments are parsed in smart_routing.cli)."""

from __future__ import annotations

import argparse
import json
import sys

from smart_routing.config.engine_config import load_config
from smart_routing.replay.accounting import Policy
from smart_routing.replay.output import write_fills
from smart_routing.replay.run import ReplayResult, Settings, replay

ALL = "all"


def run_replay(args: argparse.Namespace) -> int:
    """Prints the figures as JSON and a line of skipped-row counts on stderr; writes the fills
    and the report only once everything has been computed."""
    policies = tuple(Policy) if args.policy == ALL else (Policy(args.policy),)
    settings = Settings(policies=policies, horizon_s=args.horizon_s, ttl_s=args.ttl_s)
    result = replay(args.quotes, args.orders, settings, load_config(smart_routing_default=True))
    summary = result.summary()
    if args.fills is not None:
        write_fills(args.fills, result)
    if args.report is not None:
        from smart_routing.replay.report import write_report

        write_report(args.report, result, summary)
    print(json.dumps(summary, indent=2))
    print(_skipped_line(result), file=sys.stderr)
    return 0


def _skipped_line(result: ReplayResult) -> str:
    parts = []
    for what, skipped in (
        ("quote", result.quote_stats.skipped),
        ("order", result.order_stats.skipped),
    ):
        total = sum(skipped.values())
        detail = ", ".join(f"{reason} {count}" for reason, count in sorted(skipped.items()))
        parts.append(f"skipped {total} {what} rows" + (f" ({detail})" if detail else ""))
    return "; ".join(parts)


def run_sample(args: argparse.Namespace) -> int:
    from smart_routing.replay.sample import generate

    generate(args.out, quotes=args.quotes, orders=args.orders, seed=args.seed)
    print(f"wrote {args.out / 'QUOTES.csv'} and {args.out / 'ORDERS.csv'}")
    return 0
