"""Cached authorisation decisions never outlive the token or visas they were made from."""

from __future__ import annotations

import threading

import pytest

from genomenode.access.decision_cache import DecisionCache

NOW = 1_750_000_000.0
KEY = ("https://login.example.org/", "alice", "7")


def test_decision_cache__entry_expires_at_the_token_exp() -> None:
    cache: DecisionCache[str] = DecisionCache(ttl=3600)
    token_exp = NOW + 120
    cache.put(KEY, "registered", token_exp, NOW)
    assert cache.get(KEY, NOW + 119.9) == "registered"
    assert cache.get(KEY, token_exp) is None
    assert len(cache) == 0  # the expired entry is gone, not just hidden


def test_decision_cache__entry_expires_after_the_ttl_even_if_the_token_lives_longer() -> None:
    cache: DecisionCache[str] = DecisionCache(ttl=300)
    cache.put(KEY, "registered", NOW + 86_400, NOW)
    assert cache.get(KEY, NOW + 299) == "registered"
    assert cache.get(KEY, NOW + 300) is None


def test_decision_cache__an_already_expired_decision_is_not_stored() -> None:
    cache: DecisionCache[str] = DecisionCache()
    cache.put(KEY, "old", NOW + 10, NOW)
    cache.put(KEY, "stale", NOW - 1, NOW)
    assert cache.get(KEY, NOW) is None and len(cache) == 0


def test_decision_cache__keys_are_separated_by_policy_version_issuer_and_subject() -> None:
    cache: DecisionCache[str] = DecisionCache()
    issuer, subject, version = KEY
    cache.put(KEY, "before", NOW + 60, NOW)
    # GIVEN the policy changed (a grant was revoked): the new version is a miss
    assert cache.get((issuer, subject, "8"), NOW) is None
    cache.put((issuer, subject, "8"), "after", NOW + 60, NOW)
    assert cache.get((issuer, subject, "8"), NOW) == "after"
    # the same subject id from another issuer is another person
    assert cache.get(("https://idp.hospital.example/", subject, version), NOW) is None
    assert cache.get((issuer, "bob", version), NOW) is None


def test_decision_cache__forget_drops_every_version_of_one_caller() -> None:
    cache: DecisionCache[str] = DecisionCache()
    issuer, subject, _ = KEY
    for version in ("1", "2"):
        cache.put((issuer, subject, version), version, NOW + 60, NOW)
    cache.put((issuer, "bob", "1"), "bob", NOW + 60, NOW)
    cache.forget(issuer=issuer, subject=subject)
    assert len(cache) == 1 and cache.get((issuer, "bob", "1"), NOW) == "bob"


def test_decision_cache__bounded_and_least_recently_used_go_first() -> None:
    cache: DecisionCache[int] = DecisionCache(max_entries=3)
    keys = [("iss", f"user{i}", "1") for i in range(4)]
    for i, key in enumerate(keys[:3]):
        cache.put(key, i, NOW + 60, NOW)
    assert cache.get(keys[0], NOW) == 0  # user0 is now the most recently used
    cache.put(keys[3], 3, NOW + 60, NOW)
    assert len(cache) == 3
    assert cache.get(keys[1], NOW) is None
    assert [cache.get(k, NOW) for k in (keys[0], keys[2], keys[3])] == [0, 2, 3]


def test_decision_cache__safe_to_share_between_threads() -> None:
    cache: DecisionCache[int] = DecisionCache(max_entries=50)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(500):
                key = ("iss", f"user{(n * 7 + i) % 80}", "1")
                cache.put(key, i, NOW + 60, NOW)
                cache.get(key, NOW)
                if i % 50 == 0:
                    cache.forget(issuer="iss", subject=f"user{i % 80}")
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(cache) <= 50


def test_decision_cache__refuses_nonsense_bounds() -> None:
    with pytest.raises(ValueError):
        DecisionCache(ttl=0)
    with pytest.raises(ValueError):
        DecisionCache(max_entries=0)
