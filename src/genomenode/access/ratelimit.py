"""Requests per caller per minute: a token bucket per caller, in this process.

The ELIXIR Beacon Network asks members to take at least 100 concurrent queries, so the limit is
per caller, not global: one client hammering the node waits, the others do not. Anonymous callers
are keyed by their address. A refused request learns when to come back (Retry-After).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`per_minute` requests per key on average, bursts up to `burst`; 0 turns it off."""

    def __init__(self, per_minute: int, *, burst: int | None = None, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else max(per_minute // 6, 1))
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            if len(self._buckets) > 100_000:  # forget full buckets so the table cannot grow without end
                self._buckets = {k: b for k, b in self._buckets.items() if b.tokens < self.capacity}
            return (1.0 - bucket.tokens) / self.rate
