"""The per-caller rate limit: a burst goes through, then one request per 1/rate seconds."""

from __future__ import annotations

from genomenode.access.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_ratelimit__a_burst_passes_then_the_caller_waits_for_the_refill() -> None:
    clock = Clock()
    limiter = RateLimiter(60, burst=3, clock=clock)  # one a second
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("a")
    assert 0.99 <= wait <= 1.0
    clock.now += 1.0
    assert limiter.take("a") == 0.0


def test_ratelimit__callers_have_their_own_buckets() -> None:
    limiter = RateLimiter(60, burst=1, clock=Clock())
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0
    assert limiter.take("b") == 0.0


def test_ratelimit__zero_turns_it_off() -> None:
    limiter = RateLimiter(0, clock=Clock())
    assert all(limiter.take("a") == 0.0 for _ in range(10_000))
