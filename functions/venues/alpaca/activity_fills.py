"""Fills from Alpaca's Activity SSE (Broker API, GET /v2beta1/events/activities), read in
bounded windows for the scheduled reconciler.

One stream carries every account's activities. Each event has a ULID `event_id` (its
publication time, so event ids sort as they were published) and a `ref_id`, the execution's
id for a trade (`TRD`): the fill id, so a replayed event adds nothing. A window is asked for
with `since_id` (the cursor: the last event id read) and `until_id` (the last possible ULID of
a moment a few seconds back, so nothing published later can sort inside a window already
read), and the server closes the stream at the end of the range. Without a cursor the first
window starts `FIRST_LOOKBACK` back. A page ends at the window's end or after `limit` fills
(the connection is closed there, and the next page starts after the last event read).

Trade corrections and busts (`execution_type` trade_correct / trade_bust) are not applied:
they are reported as problems for operations. Other activity types (dividends, fees,
journals) are not fills and are passed over.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from smart_routing.domain.errors import VenueUnavailable
from smart_routing.domain.fills import FillPage, VenueFill
from smart_routing.domain.orders import OrderSide
from venues.alpaca.broker_api import broker_client
from venues.alpaca.fills import _symbol
from venues.alpaca.ulid import ALPHABET, is_ulid, last_ulid_at
from venues.fill_entries import MALFORMED, exact
from venues.http import describe
from venues.settings import AlpacaBrokerSettings

ACTIVITIES_PATH = "/v2beta1/events/activities"
FIRST_LOOKBACK = timedelta(days=1)
# Events are named by their publication time: a window ends this far back, so every event
# that will ever sort inside it has been published when it is read.
SETTLE_LAG = timedelta(seconds=5)
DEFAULT_TIMEOUT_S = 10.0
_SIDES = {"buy": "buy", "sell": "sell", "sell_short": "sell"}


class TradeDetails(BaseModel):
    """A TRD event's `details` (Alpaca's activity guide, "Event Samples")."""

    model_config = ConfigDict(extra="allow")

    order_id: str = Field(min_length=1)
    client_order_id: str | None = None
    symbol: str = Field(min_length=1)
    side: str
    execution_type: str
    cum_qty: str | None = None
    leaves_qty: str | None = None
    order_status: str | None = None


class TradeEvent(BaseModel):
    """A TRD activity event's envelope; `qty` and `price` are read exactly from the strings."""

    model_config = ConfigDict(extra="allow")

    account_id: str
    event_id: str
    ref_id: str = Field(min_length=1)
    activity_type: str
    status: str
    executed_at: AwareDatetime
    qty: str
    price: str
    details: TradeDetails


class AlpacaActivityFills:
    """The Broker API's fills, every account's, from the Activity SSE."""

    venue = "alpaca"

    def __init__(
        self,
        settings: AlpacaBrokerSettings,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = broker_client(settings, timeout_s)
        self.now = now

    def fills_since(self, cursor: str | None, limit: int) -> FillPage:
        """One window after `cursor` (an event id; anything else, as from the Trading API's
        activities, starts afresh FIRST_LOOKBACK back)."""
        horizon = self.now() - SETTLE_LAG
        start = ulid_time(cursor) if cursor is not None and is_ulid(cursor) else None
        if start is not None and start >= horizon:
            return FillPage(fills=[], cursor=cursor)  # read up to the present already
        end = horizon
        params: dict[str, str] = {"until_id": last_ulid_at(end)}
        if start is None:
            params = {"since": _rfc3339(horizon - FIRST_LOOKBACK), "until": _rfc3339(end)}
            cursor = None
        else:
            params["since_id"] = str(cursor)
        fills: list[VenueFill] = []
        problems: list[str] = []
        last = cursor
        stopped_early = False
        for event in self._stream(params):
            event_id = event.get("event_id") if isinstance(event, dict) else None
            if not isinstance(event_id, str) or not is_ulid(event_id):
                problems.append(f"alpaca activity event skipped: no ULID event_id ({event_id!r})")
                continue
            if cursor is not None and event_id <= cursor:
                continue  # a replay of what the cursor has passed (since_id may include it)
            if len(fills) >= max(1, limit):
                stopped_early = True
                break
            last = event_id
            _read(event, fills, problems)
        window_end = last_ulid_at(end)
        if not stopped_early and (last is None or last < window_end):
            last = window_end  # the whole window is read: the next starts after it
        return FillPage(fills=fills, cursor=last, problems=problems, more=stopped_early)

    def client_order_id_of(self, fill: VenueFill) -> str | None:
        """A TRD event names its order's client_order_id; one that does not is unmatched."""
        return fill.client_order_id

    def _stream(self, params: dict[str, str]) -> Iterator[Any]:
        base = self.client._base_url  # alpaca-py's BaseURL enum, or the override's text
        url = f"{getattr(base, 'value', base)}{ACTIVITIES_PATH}"
        headers = {**self.client._get_default_headers(), "Accept": "text/event-stream"}
        try:
            with self.client._session.get(url, params=params, headers=headers, stream=True) as got:
                if got.status_code != 200:
                    reason = describe(Exception(got.text))
                    raise VenueUnavailable(f"alpaca activities: HTTP {got.status_code}: {reason}")
                yield from _events(str(line) for line in got.iter_lines(decode_unicode=True))
        except requests.RequestException as exc:
            raise VenueUnavailable(f"alpaca activities: {describe(exc)}") from exc


def _events(lines: Iterator[str]) -> Iterator[Any]:
    """The JSON of each `data:` line; a comment saying events were dropped or the server
    failed ends the read without moving past what was lost."""
    for line in lines:
        if line.startswith(":"):
            comment = line[1:].strip()
            if "dropped" in comment or "error" in comment:
                raise VenueUnavailable(f"alpaca activities: the stream said {comment!r}")
            continue
        if line.startswith("data:"):
            try:
                yield json.loads(line[5:].strip())
            except ValueError:
                yield {"unreadable": line[:200]}


def _read(event: dict[str, Any], fills: list[VenueFill], problems: list[str]) -> None:
    if event.get("activity_type") != "TRD":
        return
    name = f"alpaca TRD activity {event.get('ref_id') or '(no ref_id)'}"
    try:
        trade = TradeEvent.model_validate(event)
        kind = trade.details.execution_type
        if kind != "fill":
            problems.append(f"{name} is a {kind} (of {trade.details.order_id}): not applied")
            return
        fills.append(_fill(trade))
    except MALFORMED as exc:
        problems.append(f"{name} skipped: {describe(exc)}")


def _fill(trade: TradeEvent) -> VenueFill:
    details = trade.details
    symbol, asset_class = _symbol(details.symbol)
    return VenueFill(
        venue=AlpacaActivityFills.venue,
        fill_id=trade.ref_id,
        broker_order_id=details.order_id,
        client_order_id=details.client_order_id or None,
        symbol=symbol,
        asset_class=asset_class,
        side=OrderSide(_SIDES.get(details.side, details.side)),
        qty=exact(trade.qty, "qty"),
        price=exact(trade.price, "price"),
        cum_qty=None if details.cum_qty is None else exact(details.cum_qty, "cum_qty"),
        filled_at=trade.executed_at,
    )


def ulid_time(value: str) -> datetime:
    millis = 0
    for char in value[:10]:
        millis = millis * 32 + ALPHABET.index(char)
    return datetime.fromtimestamp(millis / 1000, UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
