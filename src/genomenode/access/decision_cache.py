"""A small in-memory cache of authorisation decisions.

Keyed by (issuer, subject, policy version), so a policy change (a new grant, a withdrawn consent)
is a new key rather than a stale hit, and two issuers' equal subject ids never share an entry.
An entry expires no later than the `expires_at` it was stored with (the caller passes
min(token exp, earliest visa exp)) nor `ttl` seconds after it was stored. The least recently
used entries go first once `max_entries` is reached. Safe to share between threads.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Generic, TypeVar

T = TypeVar("T")

#: (issuer, subject, policy version)
CacheKey = tuple[str, str, str]


class DecisionCache(Generic[T]):
    def __init__(self, *, ttl: float = 300.0, max_entries: int = 10_000) -> None:
        if ttl <= 0 or max_entries <= 0:
            raise ValueError("ttl and max_entries must be positive")
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[CacheKey, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: CacheKey, now: float | None = None) -> T | None:
        """The decision stored under `key`, or None when there is none or it has expired."""
        now = time.time() if now is None else now
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires_at, value = entry
            if now >= expires_at:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: CacheKey, value: T, expires_at: float, now: float | None = None) -> None:
        """Store `value` until min(`expires_at`, now + ttl); an already expired one is not stored."""
        now = time.time() if now is None else now
        until = min(expires_at, now + self.ttl)
        with self._lock:
            if until <= now:
                self._entries.pop(key, None)
                return
            self._entries[key] = (until, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, *, issuer: str, subject: str) -> None:
        """Drop every decision about one caller (all policy versions), e.g. after a role change."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == issuer and k[1] == subject]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
