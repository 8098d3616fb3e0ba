"""Command line: `route` answers what smart routing would decide for a quote; `demo` runs the
in-process scenario; `replay` measures the routing policies on recorded quotes (docs/replay.md)
and `replay-sample` writes a sample to replay."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.config.engine_config import load_config
from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.domain.errors import ConfigError
from smart_routing.domain.money import to_decimal
from smart_routing.domain.orders import AccountSnapshot, OrderIntent, OrderSide, Position
from smart_routing.gate.decision import GateAction, SmartRoutingDecision
from smart_routing.gate.limit_fallback import apply_fallback
from smart_routing.gate.router import SmartRouter
from smart_routing.market.conversion import Conversion, conversion_from_quote, conversion_pair
from smart_routing.market.quotes import Quote
from smart_routing.portfolio.paper_account import ACCOUNT_CURRENCY

EXIT_USAGE = 2
REPLAY_POLICIES = ("market", "wait", "limit", "all")  # smart_routing.replay.accounting.Policy


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message}\n")


def _number(text: str) -> Decimal:
    try:
        value = to_decimal(text, "value")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value


def _non_negative(text: str) -> Decimal:
    try:
        value = to_decimal(text, "value")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def _seconds(text: str) -> float:
    return float(_number(text))


def _count(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number greater than 0")
    return int(text)


def _fraction(text: str) -> Decimal:
    value = _non_negative(text)
    if value > 1:
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
    route.add_argument("--qty", type=_number, default=Decimal(1))
    route.add_argument("--asset-class", type=str.upper, choices=[c.value for c in AssetClass])
    route.add_argument(
        "--max-spread-pct", type=_fraction, help="a strategy's own maximum, e.g. 0.001 = 0.1%%"
    )
    route.add_argument(
        "--cash",
        type=_non_negative,
        help="account cash in USD (default: the paper account's starting cash)",
    )
    route.add_argument(
        "--held", type=_non_negative, default=Decimal(0), help="qty of the symbol held"
    )
    route.add_argument(
        "--conversion-mid", type=_number,
        help="mid of the pair converting the quote currency to USD, when it is not the symbol",
    )  # fmt: skip
    commands.add_parser("demo", help="run the in-process scenario over the simulated market")
    _replay_parsers(commands)
    return parser


def _replay_parsers(commands: argparse._SubParsersAction) -> None:
    replay = commands.add_parser(
        "replay", help="what smart routing would have saved on recorded quotes"
    )
    replay.add_argument("--quotes", required=True, type=Path, help="QUOTES.csv")
    replay.add_argument("--orders", required=True, type=Path, help="ORDERS.csv")
    replay.add_argument("--policy", choices=REPLAY_POLICIES, default="all")
    replay.add_argument("--horizon-s", type=_seconds, default=300.0)
    replay.add_argument("--ttl-s", type=_seconds, default=60.0)
    replay.add_argument("--fills", type=Path, help="write each simulated fill (CSV)")
    replay.add_argument("--report", type=Path, help="write an HTML report with charts")
    sample = commands.add_parser("replay-sample", help="write a sample QUOTES.csv and ORDERS.csv")
    sample.add_argument("--out", type=Path, default=Path("replay-sample"))
    sample.add_argument("--quotes", type=_count, default=20_000)
    sample.add_argument("--orders", type=_count, default=500)
    sample.add_argument("--seed", type=int, default=7)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("replay", "replay-sample"):
        return _replay(args)
    try:
        if args.command == "route":
            print(json.dumps(route(args)))
        else:
            from smart_routing.demo import run_demo

            run_demo(load_config(smart_routing_default=True))
    except (ValueError, ConfigError) as exc:  # bad symbol, crossed quote, bad EXEC_* setting
        if args.command == "demo" and not isinstance(exc, ConfigError):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def _replay(args: argparse.Namespace) -> int:
    """Imported here: the replay loads pyarrow and numpy, which nothing else needs."""
    from smart_routing.replay.command import run_replay, run_sample
    from smart_routing.replay.csv_input import ReplayInputError
    from smart_routing.replay.gatekeeper import PrescreenTooTight

    try:
        return run_replay(args) if args.command == "replay" else run_sample(args)
    except (ReplayInputError, PrescreenTooTight, ConfigError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def route(args: argparse.Namespace) -> dict[str, object]:
    """The gate's decision for one quote, as the engine would make it on the paper account.

    Unset, EXEC_SMART_ROUTING_ENABLED counts as on here: this is smart routing's what-if.
    """
    if args.bid > args.ask:
        raise ValueError(f"bid {args.bid} is above ask {args.ask}")
    config = load_config(smart_routing_default=True)
    instrument = parse_symbol(args.symbol, args.asset_class)
    now = datetime.now(UTC)
    quote = Quote(symbol=instrument.symbol, bid=args.bid, ask=args.ask, as_of=now, source="cli")
    spec = BuiltinInstruments().get_instrument(instrument.symbol, instrument.asset_class)
    intent = OrderIntent(
        symbol=instrument.symbol,
        side=OrderSide(args.side),
        qty=args.qty,
        asset_class=instrument.asset_class,
        max_spread_pct=args.max_spread_pct,
    )
    router = SmartRouter(config.routing, config.fees, enabled=config.smart_routing_enabled)
    account = _account(
        args, config.paper_starting_cash, instrument.symbol, instrument.asset_class, now
    )
    conversion = _conversion(spec.quote_currency, quote, args.conversion_mid)
    decision = router.decide(intent, spec, quote, now, account, conversion)
    decision = apply_fallback(router, config.wide_spread_action, config.limit_ttl_s, intent, spec,
                              decision, now, account, conversion)  # fmt: skip
    if decision.action is GateAction.INVALID:
        raise ValueError(decision.reason)
    return _decision_json(decision)


def _account(
    args: argparse.Namespace,
    starting_cash: Decimal,
    symbol: str,
    asset_class: AssetClass,
    now: datetime,
) -> AccountSnapshot:
    cash = args.cash if args.cash is not None else starting_cash
    positions = {}
    if args.held > 0:
        positions[symbol] = Position(
            symbol=symbol, asset_class=asset_class, qty=args.held, avg_price=Decimal(0)
        )
    return AccountSnapshot(
        currency=ACCOUNT_CURRENCY, cash=cash, buying_power=cash, positions=positions, as_of=now
    )


def _conversion(currency: str, quote: Quote, given_mid: Decimal | None) -> Conversion | None:
    """The quote currency in USD: from the symbol's own quote when it is the conversion pair
    (USD/JPY), else from --conversion-mid; None when neither gives it."""
    if currency == ACCOUNT_CURRENCY:
        return None
    pair, _, inverse = conversion_pair(currency, ACCOUNT_CURRENCY)
    if pair == quote.symbol:
        return conversion_from_quote(quote, inverse)
    if given_mid is None:
        return None
    rate = Decimal(1) / given_mid if inverse else given_mid
    return Conversion(rate=rate, symbol=pair)


def _decision_json(decision: SmartRoutingDecision) -> dict[str, object]:
    document = decision.model_dump(mode="json", exclude={"quote"})
    if decision.quote is not None:
        document["bid"] = float(decision.quote.bid)
        document["ask"] = float(decision.quote.ask)
        document["mid"] = float(decision.quote.mid)
    return document
