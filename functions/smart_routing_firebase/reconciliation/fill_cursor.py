"""A venue's fills read from the cursor kept at reconciliation/{venue}."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from google.cloud.firestore import Client

from smart_routing import logs
from smart_routing.domain.fills import CursorExpired, FillPage, VenueFill
from smart_routing.ports import FillSource
from smart_routing_firebase.stores import paths


class FillCursor:
    """Where the reconciler is in one venue account's fills, and the fills after it."""

    def __init__(self, db: Client, source: FillSource, page_size: int) -> None:
        self.source, self.page_size = source, page_size
        self.ref = db.document(paths.reconciliation(source.venue))

    def stored(self) -> str | None:
        data = self.ref.get().to_dict()
        return None if data is None else data.get("cursor")

    def move_to(self, cursor: str) -> None:
        self.ref.set({"cursor": cursor, "updated_at": datetime.now(UTC)})

    def read(self, cursor: str | None, tally: Counter[str]) -> FillPage:
        """The venue's pages after `cursor` as one, up to `page_size` fills. A cursor the venue
        has purged restarts from the oldest fill it keeps: fills seen are skipped."""
        fills: list[VenueFill] = []
        problems: list[str] = []
        more = True
        while more and len(fills) < self.page_size:
            try:
                page = self.source.fills_since(cursor, self.page_size - len(fills))
            except CursorExpired as exc:
                logs.log_event(
                    logs.LogEvent.RECONCILE_CURSOR_EXPIRED, severity="WARNING",
                    venue=self.source.venue, cursor=cursor, error=str(exc),
                )  # fmt: skip
                tally["cursor_expired"] += 1
                cursor = None
                continue
            fills += page.fills
            problems += page.problems
            cursor = page.cursor if page.cursor is not None else cursor
            more = page.more
        return FillPage(fills=fills, cursor=cursor, problems=problems, more=more)
