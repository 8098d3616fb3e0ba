"""put_bounded: the newest entries stay, the oldest go past the limit."""

from __future__ import annotations

from smart_routing.domain.bounded_cache import put_bounded


def test_the_oldest_entries_go_and_a_key_set_again_is_the_newest():
    store: dict[str, int] = {}
    for n, key in enumerate("abcd"):
        put_bounded(store, key, n, limit=3)
    assert list(store) == ["b", "c", "d"]
    put_bounded(store, "b", 10, limit=3)
    put_bounded(store, "e", 4, limit=3)
    assert store == {"d": 3, "b": 10, "e": 4}
