"""A small bounded memo of rendered screens.

Rendering a screen's template is most of the CPU of a button turn, and people at the same
point of the conversation (the menu just after /start, a domain, a fit question) see the
same screen: it is rendered once and kept, by the exact content it is rendered from (see
`Views.screen` for the key). The memo holds the most recently used entries only, so its
memory stays bounded whatever the number of people.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedMemo(Generic[K, V]):
    """Values by key, the least recently used dropped beyond `size` entries. Safe to share
    between threads (a channel may render from a worker thread)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The value kept for `key`, else `compute()` kept and returned. A computation that
        raises keeps nothing."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]
        value = compute()  # outside the lock: rendering may take a while
        with self._lock:
            self.misses += 1
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)
