"""Per-instance singletons that many request threads may ask for at once."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Once(Generic[T]):
    """`build()` run once per instance, however many threads ask first: the others wait for
    its result (functools.cache would let each of them build its own). A build that raises
    is not kept, so the next call tries again."""

    def __init__(self, build: Callable[[], T]) -> None:
        functools.update_wrapper(self, build)
        self._build = build
        self._lock = threading.Lock()
        self._built: tuple[T] | None = None

    def __call__(self) -> T:
        built = self._built
        if built is None:
            with self._lock:
                if self._built is None:
                    self._built = (self._build(),)
                built = self._built
        return built[0]


def once(build: Callable[[], T]) -> Once[T]:
    return Once(build)
