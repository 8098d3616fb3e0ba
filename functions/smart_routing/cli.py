"""Command line: `route` answers what smart routing would decide for a quote; `demo` runs the
in-process scenario."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NoReturn

from smart_routing.assets import AssetClass, contract_multiplier, parse_symbol
from smart_routing.clock import FixedClock
from smart_routing.config import load_config
from smart_routing.errors import ConfigError
from smart_routing.market_data import Quote
from smart_routing.orders import OrderSide
from smart_routing.routing import SmartRouter

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message}\n")


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive finite number")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a fraction between 0 and 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m smart_routing", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    route = commands.add_parser("route", help="what smart routing decides for a quote")
    route.add_argument("--symbol", required=True)
    route.add_argument("--bid", required=True, type=_number)
    route.add_argument("--ask", required=True, type=_number)
    route.add_argument("--side", choices=[s.value for s in OrderSide], default="buy")
    route.add_argument("--qty", type=_number, default=1.0)
    route.add_argument("--asset-class", type=str.upper, choices=[c.value for c in AssetClass])
    route.add_argument("--max-spread-pct", type=_fraction, help="threshold, e.g. 0.001 = 0.1%%")
    commands.add_parser("demo", help="run the in-process scenario over the simulated market")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "route":
            print(json.dumps(route(args)))
        else:
            from smart_routing.demo import run_demo

            run_demo(load_config())
    except (ValueError, ConfigError) as exc:  # bad symbol, crossed quote, bad EXEC_* setting
        if args.command == "demo" and not isinstance(exc, ConfigError):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def route(args: argparse.Namespace) -> dict[str, object]:
    if args.bid > args.ask:
        raise ValueError(f"bid {args.bid:g} is above ask {args.ask:g}")
    instrument = parse_symbol(args.symbol, args.asset_class)
    policy = load_config().routing
    if args.max_spread_pct is not None:
        policy = policy.with_uniform_threshold(args.max_spread_pct)
    now = datetime.now(UTC)
    quote = Quote(symbol=instrument.symbol, bid=args.bid, ask=args.ask, as_of=now, source="cli")
    decision = SmartRouter(policy, FixedClock(now)).decide(
        instrument.symbol, instrument.asset_class, quote
    )
    notional = args.qty * quote.mid * contract_multiplier(instrument.asset_class)
    slippage = decision.estimated_slippage or 0.0
    return {
        **decision.log_fields(),
        "side": args.side,
        "qty": args.qty,
        "bid": args.bid,
        "ask": args.ask,
        "mid": quote.mid,
        "notional": notional,
        "estimated_cost": notional * slippage,
    }
