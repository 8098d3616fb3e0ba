"""Orders a scheduled run works through in bounded pages, from where the last run stopped.

A run reads at most `max_pages` pages of `page_size` orders, in document-path order, and keeps
the path of the last order it finished at reconciliation/{name}: the next run goes on after
it, and one that reaches the end clears it, so the run after that starts over. However many
orders there are, a run's reads and venue calls stay bounded, and every order is visited
within a few runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from google.cloud.firestore import Client

from smart_routing_firebase.stores import paths

PAGE_SIZE = 200
MAX_PAGES = 5


class OrderPages:
    def __init__(
        self,
        db: Client,
        name: str,
        query: Any,
        page_size: int = PAGE_SIZE,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self.db, self.query = db, query
        self.ref = db.document(paths.reconciliation(name))
        self.page_size, self.max_pages = page_size, max_pages

    def __iter__(self) -> Iterator[Any]:
        """Each order of this run's pages; the cursor moves once a page has been handed out
        whole (a run that dies in a page reads that page again)."""
        after = self._stored()
        for _ in range(self.max_pages):
            page_query = self.query.order_by("__name__").limit(self.page_size)
            if after is not None:
                page_query = page_query.start_after({"__name__": self.db.document(after)})
            page = list(page_query.stream())
            yield from page
            if len(page) < self.page_size:
                self._store(None)  # the end: the next run starts over
                return
            after = page[-1].reference.path
            self._store(after)

    def _stored(self) -> str | None:
        data = self.ref.get().to_dict()
        return None if data is None else data.get("after")

    def _store(self, after: str | None) -> None:
        self.ref.set({"after": after, "updated_at": datetime.now(UTC)})
