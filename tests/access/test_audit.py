"""The audit log: appended durably before data leaves, hash-chained, and any tampering named."""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import multiprocessing
import re
import resource
import stat
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from genomenode.access.audit import GENESIS, AuditEvent, AuditLog
from genomenode.errors import AuditChainError, AuditUnavailableError

T0 = datetime(2025, 1, 31, 9, 0, tzinfo=UTC)
FIELDS = ("seq", "time", "prev", "action", "actor", "role", "target", "outcome", "details", "request_id", "hash")


def _event(n: int = 0, *, action: str = "read.genotypes", actor: str = "https://node.example|alice") -> AuditEvent:
    return AuditEvent(
        action=action,
        actor=actor,
        role="researcher",
        target=f"pseudonym-{n:04d}",
        outcome="allowed",
        details={"project": "p1", "region": f"chr10:{94_700_000 + n}-94800000", "count": n, "ratio": 0.5},
        request_id=f"req-{n}" if n % 2 else None,
    )


def _ticking_clock(step: timedelta = timedelta(minutes=1)) -> Callable[[], datetime]:
    """Entries one `step` apart from T0, so time filters have exact answers."""
    ticks = iter(range(1_000_000))
    return lambda: T0 + next(ticks) * step


def _log_with(path: Path, n: int, **kwargs: Any) -> AuditLog:
    log = AuditLog(path, **kwargs)
    for i in range(n):
        assert log.append(_event(i)) is not None
    return log


def _lines(log: AuditLog) -> list[bytes]:
    return log.path.read_bytes().splitlines()


def _write_lines(log: AuditLog, lines: list[bytes]) -> None:
    log.path.write_bytes(b"".join(line + b"\n" for line in lines))


def _canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _rehashed(entry: dict[str, Any]) -> dict[str, Any]:
    """What a careful forger does: recompute the entry's own hash after changing it."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return {**body, "hash": hashlib.sha256(_canonical(body)).hexdigest()}


def _first_bad(log: AuditLog) -> tuple[int, int | None, str]:
    """(line, seq, message) of the first bad entry that verify names."""
    with pytest.raises(AuditChainError) as info:
        log.verify()
    message = str(info.value)
    found = re.search(r"line (\d+) \(seq (-?\d+|unreadable)\)", message)
    assert found, message
    return int(found[1]), None if found[2] == "unreadable" else int(found[2]), message


# -- appending -----------------------------------------------------------------------------------
def test_append__then_verify_passes(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit" / "audit.jsonl")
    written = [log.append(_event(i)) for i in range(3)]
    report = log.verify()
    assert report.entries == 3
    assert written[-1] is not None and report.last_hash == written[-1].hash
    assert [w.seq for w in written if w] == [1, 2, 3]


def test_append__writes_one_canonical_chained_line_per_entry(tmp_path: Path) -> None:
    log = _log_with(tmp_path / "audit" / "audit.jsonl", 3, clock=_ticking_clock())
    prev = GENESIS
    for seq, raw in enumerate(_lines(log), start=1):
        entry = json.loads(raw)
        assert set(entry) == set(FIELDS)
        assert raw == _canonical(entry)
        assert entry["seq"] == seq and entry["prev"] == prev
        assert entry["hash"] == _rehashed(entry)["hash"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", entry["time"])
        prev = entry["hash"]
    assert json.loads(_lines(log)[0])["time"] == "2025-01-31T09:00:00.000000Z"
    assert json.loads(log.head_path.read_bytes()) == {"seq": 3, "hash": prev}


def test_append__log_files_are_private_to_the_node(tmp_path: Path) -> None:
    log = _log_with(tmp_path / "audit" / "audit.jsonl", 1)
    assert stat.S_IMODE(log.path.parent.stat().st_mode) == 0o700
    for path in (log.path, log.head_path, log.lock_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_append__chain_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "audit.jsonl"
    first = _log_with(path, 2)
    entry = AuditLog(path).append(_event(2))
    assert entry is not None and entry.seq == 3
    assert json.loads(_lines(first)[2])["prev"] == json.loads(_lines(first)[1])["hash"]
    assert AuditLog(path).verify().entries == 3


def test_append__disabled_log_writes_nothing(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit" / "audit.jsonl", enabled=False)
    assert log.append(_event()) is None
    assert not log.path.parent.exists()


def test_verify__an_absent_log_is_intact_and_empty(tmp_path: Path) -> None:
    report = AuditLog(tmp_path / "audit" / "audit.jsonl").verify()
    assert (report.entries, report.last_hash) == (0, GENESIS)


# -- tampering -----------------------------------------------------------------------------------
TAMPERED_VALUES: dict[str, object] = {
    "seq": 99,
    "time": "2020-01-01T00:00:00.000000Z",
    "prev": "f" * 64,
    "action": "read.summary",
    "actor": "https://node.example|mallory",
    "role": "steward",
    "target": "pseudonym-9999",
    "outcome": "denied",
    "details": {"project": "p2"},
    "request_id": "req-forged",
    "hash": "e" * 64,
}


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("seq", [1, 3, 5])
def test_verify__altering_any_field_of_an_entry_names_that_entry(tmp_path: Path, seq: int, field: str) -> None:
    log = _log_with(tmp_path / "audit.jsonl", 5)
    lines = _lines(log)
    entry = json.loads(lines[seq - 1])
    entry[field] = TAMPERED_VALUES[field]
    lines[seq - 1] = _canonical(entry)
    _write_lines(log, lines)
    line, _, message = _first_bad(log)
    assert line == seq
    assert "altered" in message


def test_verify__an_edit_that_keeps_the_content_is_still_named(tmp_path: Path) -> None:
    # GIVEN entry 2 re-encoded with spaces: same JSON value, different bytes
    log = _log_with(tmp_path / "audit.jsonl", 3)
    lines = _lines(log)
    lines[1] = json.dumps(json.loads(lines[1]), sort_keys=True, ensure_ascii=False).encode()
    _write_lines(log, lines)
    assert _first_bad(log)[:2] == (2, 2)


def test_verify__deleting_a_middle_entry_is_named_at_its_successor(tmp_path: Path) -> None:
    log = _log_with(tmp_path / "audit.jsonl", 5)
    lines = _lines(log)
    del lines[2]
    _write_lines(log, lines)
    line, seq, message = _first_bad(log)
    assert (line, seq) == (3, 4) and "removed" in message


def test_verify__deleting_the_last_entry_is_caught_by_the_head(tmp_path: Path) -> None:
    log = _log_with(tmp_path / "audit.jsonl", 5)
    _write_lines(log, _lines(log)[:-1])
    line, seq, message = _first_bad(log)
    assert (line, seq) == (5, 5) and "removed" in message


def test_verify__deleting_the_first_entry_is_named(tmp_path: Path) -> None:
    log = _log_with(tmp_path / "audit.jsonl", 3)
    _write_lines(log, _lines(log)[1:])
    assert _first_bad(log)[:2] == (1, 2)


def test_verify__swapping_two_entries_is_named_at_the_first_swapped(tmp_path: Path) -> None:
    log = _log_with(tmp_path / "audit.jsonl", 5)
    lines = _lines(log)
    lines[1], lines[2] = lines[2], lines[1]
    _write_lines(log, lines)
    line, seq, message = _first_bad(log)
    assert (line, seq) == (2, 3) and "order" in message


def test_verify__a_forged_entry_with_its_own_hash_is_named_by_the_next_link(tmp_path: Path) -> None:
    log = _log_with(tmp_path / "audit.jsonl", 4)
    lines = _lines(log)
    lines[1] = _canonical(_rehashed({**json.loads(lines[1]), "actor": "https://node.example|mallory"}))
    _write_lines(log, lines)
    line, seq, message = _first_bad(log)
    assert (line, seq) == (3, 3) and "prev" in message


@pytest.mark.parametrize("garbage", [b"", b"not json", b"[1,2]", b'{"seq":2}', b"\xff\xfe"], ids=repr)
def test_verify__a_line_that_is_not_an_entry_is_named(tmp_path: Path, garbage: bytes) -> None:
    log = _log_with(tmp_path / "audit.jsonl", 3)
    lines = _lines(log)
    lines[1] = garbage
    _write_lines(log, lines)
    assert _first_bad(log)[0] == 2


def test_verify__a_missing_head_is_reported_and_restore_head_recovers(tmp_path: Path) -> None:
    # GIVEN the head sidecar deleted
    log = _log_with(tmp_path / "audit" / "audit.jsonl", 3)
    last_hash = log.verify().last_hash
    log.head_path.unlink()
    # THEN verify and append refuse, until a steward restores the head
    with pytest.raises(AuditChainError, match=r"audit\.head is missing"):
        log.verify()
    with pytest.raises(AuditUnavailableError, match="restores the head"):
        log.append(_event(3))
    assert log.restore_head().last_hash == last_hash
    entry = log.append(_event(3))
    assert entry is not None and entry.seq == 4
    assert log.verify().entries == 4


def test_restore_head__refuses_a_broken_chain(tmp_path: Path) -> None:
    log = _log_with(tmp_path / "audit.jsonl", 3)
    lines = _lines(log)
    del lines[1]
    _write_lines(log, lines)
    log.head_path.unlink()
    with pytest.raises(AuditChainError, match=r"line 2 \(seq 3\)"):
        log.restore_head()
    assert not log.head_path.exists()


def test_append__refuses_to_build_on_a_cut_tail(tmp_path: Path) -> None:
    # GIVEN the last entry removed (the head still names it)
    log = _log_with(tmp_path / "audit.jsonl", 3)
    _write_lines(log, _lines(log)[:-1])
    before = log.path.read_bytes()
    # THEN appends fail closed rather than hide the removal under a new entry
    with pytest.raises(AuditUnavailableError, match=r"ends at seq 2 but .* records seq 3"):
        log.append(_event(9))
    assert log.path.read_bytes() == before


def test_append__refuses_to_build_on_an_altered_last_entry(tmp_path: Path) -> None:
    log = _log_with(tmp_path / "audit.jsonl", 2)
    lines = _lines(log)
    lines[-1] = lines[-1].replace(b"alice", b"alicf")
    _write_lines(log, lines)
    with pytest.raises(AuditUnavailableError, match="damaged entry"):
        log.append(_event(9))


@functools.cache
def _pristine() -> tuple[tuple[bytes, ...], bytes]:
    """A valid log of 6 entries (lines, head), built once for the property test."""
    with tempfile.TemporaryDirectory() as folder:
        log = _log_with(Path(folder) / "audit.jsonl", 6)
        return tuple(_lines(log)), log.head_path.read_bytes()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=4,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_verify__any_single_tampering_is_named_at_the_entry_or_its_successor(data: st.DataObject) -> None:
    lines, head = _pristine()
    edited = list(lines)
    n = len(edited)
    how = data.draw(st.sampled_from(["alter", "alter and rehash", "delete", "swap"]), label="how")
    k = data.draw(st.integers(0, n - 2 if how == "swap" else n - 1), label="entry index")
    expected_seq: int | None = None
    if how == "alter":
        # any field of entry k given any other JSON value: named at entry k itself
        entry = json.loads(edited[k])
        entry[data.draw(st.sampled_from(FIELDS), label="field")] = data.draw(json_values, label="value")
        edited[k] = _canonical(entry)
        assume(edited[k] != lines[k])
        expected_line = k + 1
    elif how == "alter and rehash":
        # a forger who recomputes entry k's hash is named by the next link (or the head, for the last)
        entry = json.loads(edited[k])
        name = data.draw(st.sampled_from(["time", "action", "actor", "role", "target", "outcome", "request_id"]))
        entry[name] = data.draw(st.text(min_size=1, max_size=8), label="value")
        edited[k] = _canonical(_rehashed(entry))
        assume(edited[k] != lines[k])
        expected_line = k + 2 if k < n - 1 else k + 1
        expected_seq = expected_line
    elif how == "delete":
        del edited[k]
        expected_line, expected_seq = k + 1, k + 2 if k < n - 1 else k + 1
    else:
        j = data.draw(st.integers(k + 1, n - 1), label="swapped with")
        edited[k], edited[j] = edited[j], edited[k]
        expected_line, expected_seq = k + 1, j + 1
    with tempfile.TemporaryDirectory() as folder:
        log = AuditLog(Path(folder) / "audit.jsonl")
        _write_lines(log, edited)
        log.head_path.write_bytes(head)
        line, seq, _ = _first_bad(log)
    assert line == expected_line
    if expected_seq is not None:
        assert seq == expected_seq


# -- failing closed ------------------------------------------------------------------------------
def test_append__a_folder_path_taken_by_a_file_raises_unavailable(tmp_path: Path) -> None:
    # GIVEN the audit folder's path is a regular file (root ignores chmod, so this is how we block writes)
    blocker = tmp_path / "audit"
    blocker.write_text("not a folder")
    log = AuditLog(blocker / "audit.jsonl")
    with pytest.raises(AuditUnavailableError, match="the path is taken"):
        log.append(_event())
    assert blocker.read_text() == "not a folder"


def test_append__a_log_path_taken_by_a_folder_raises_unavailable_and_writes_nothing(tmp_path: Path) -> None:
    log = _log_with(tmp_path / "audit" / "audit.jsonl", 2)
    saved, head = log.path.read_bytes(), log.head_path.read_bytes()
    log.path.unlink()
    log.path.mkdir()
    with pytest.raises(AuditUnavailableError, match="Nothing was sent"):
        log.append(_event(2))
    log.path.rmdir()
    log.path.write_bytes(saved)
    assert log.head_path.read_bytes() == head
    assert log.verify().entries == 2


def _append_under_file_size_limit(path: str, limit: int) -> str:
    """In a child process: append with files capped at `limit` bytes, as on a disk that fills up."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    try:
        AuditLog(Path(path)).append(_event(7))
    except AuditUnavailableError as exc:
        return f"unavailable: {exc}"
    return "appended"


def test_append__a_write_failing_halfway_leaves_no_partial_line(tmp_path: Path) -> None:
    # GIVEN a log whose next line can only be written 10 bytes in (RLIMIT_FSIZE binds root too)
    log = _log_with(tmp_path / "audit" / "audit.jsonl", 2)
    before, head = log.path.read_bytes(), log.head_path.read_bytes()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        outcome = pool.apply(_append_under_file_size_limit, (str(log.path), len(before) + 10))
    # THEN the append failed, and the log and head are exactly as before
    assert outcome.startswith("unavailable:") and "free disk space" in outcome, outcome
    assert log.path.read_bytes() == before
    assert log.head_path.read_bytes() == head
    assert log.verify().entries == 2


def test_append__a_line_torn_by_a_crash_is_removed_by_the_next_append(tmp_path: Path) -> None:
    # GIVEN a process killed halfway through writing entry 3 (its append never returned)
    log = _log_with(tmp_path / "audit.jsonl", 2)
    with log.path.open("ab") as fh:
        fh.write(b'{"action":"read.geno')
    assert _first_bad(log)[0] == 3
    entry = log.append(_event(2))
    assert entry is not None and entry.seq == 3
    assert log.verify().entries == 3 and len(_lines(log)) == 3


def test_append__a_crash_between_entry_and_head_is_repaired(tmp_path: Path) -> None:
    # GIVEN entry 3 on disk but the head still at entry 2 (a crash between the two writes)
    log = _log_with(tmp_path / "audit.jsonl", 2)
    old_head = log.head_path.read_bytes()
    log.append(_event(2))
    log.head_path.write_bytes(old_head)
    assert _first_bad(log)[:2] == (3, 3)
    entry = log.append(_event(3))
    assert entry is not None and entry.seq == 4
    assert log.verify().entries == 4


def _append_many(path: str, worker: int, count: int, start: Any) -> None:
    start.wait()
    log = AuditLog(Path(path))
    for i in range(count):
        log.append(_event(i, actor=f"cli:worker{worker}"))


def test_append__two_processes_appending_keep_one_valid_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "audit.jsonl"
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    workers = [ctx.Process(target=_append_many, args=(str(path), w, 50, start)) for w in range(2)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=120)
        assert p.exitcode == 0
        p.close()
    log = AuditLog(path)
    assert log.verify().entries == 100
    actors = [e["actor"] for e in log.export()]
    assert actors.count("cli:worker0") == actors.count("cli:worker1") == 50


# -- what an entry may hold ----------------------------------------------------------------------
@pytest.mark.parametrize("key", ["gt", "GT", "genotype", "genotypes", "calls", "call_genotype", "sample.gt"])
def test_event__genotype_like_detail_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="never contains genotypes"):
        AuditEvent(action="read.genotypes", actor="a|b", role="r", target="t", outcome="allowed", details={key: "0/1"})


@pytest.mark.parametrize(
    ("details", "complaint"),
    [
        ({"region": ["chr1:1-2"]}, "only text, numbers"),
        ({"note": "x" * 513}, "at most 512"),
        ({f"k{i}": i for i in range(33)}, "at most 32"),
        ({"ratio": float("nan")}, "finite"),
        ({"bad key": 1}, "short name"),
        ({"note": "\ud800"}, "valid Unicode"),
    ],
    ids=["list", "long text", "many keys", "nan", "key", "surrogate"],
)
def test_event__details_must_be_few_small_scalars(details: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        AuditEvent(action="share", actor="a|b", role="r", target="t", outcome="done", details=details)


@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        ("action", "Read Genotypes", "dotted lower-case"),
        ("outcome", "maybe", "must be one of"),
        ("actor", "", "actor is empty"),
        ("target", "t" * 513, "at most 512"),
        ("request_id", "r" * 129, "at most 128"),
    ],
)
def test_event__fields_are_checked(field: str, value: str, complaint: str) -> None:
    fields: dict[str, Any] = {"action": "grant.add", "actor": "a|b", "role": "steward", "target": "ds1"}
    fields |= {"outcome": "done", field: value}
    with pytest.raises(ValueError, match=complaint):
        AuditEvent(**fields)


def test_event__details_cannot_be_changed_after_the_fact() -> None:
    details = {"project": "p1"}
    event = AuditEvent(action="grant.add", actor="a|b", role="steward", target="ds1", outcome="done", details=details)
    details["project"] = "p2"
    assert event.details["project"] == "p1"
    with pytest.raises(TypeError):
        event.details["project"] = "p3"  # type: ignore[index]


# -- export --------------------------------------------------------------------------------------
@pytest.fixture
def five_acts(tmp_path: Path) -> Iterator[AuditLog]:
    """Five entries one minute apart from T0: seq n at T0 + (n-1) minutes."""
    log = AuditLog(tmp_path / "audit" / "audit.jsonl", clock=_ticking_clock())
    for i, action in enumerate(
        ["read.genotypes", "grant.add", "read.individual", "consent.withdraw", "read.genotypes"]
    ):
        log.append(_event(i, action=action))
    yield log


def test_export__filters_by_time_and_action(five_acts: AuditLog) -> None:
    def seqs(**filters: Any) -> list[int]:
        return [e["seq"] for e in five_acts.export(**filters)]

    assert seqs() == [1, 2, 3, 4, 5]
    assert seqs(since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=4)) == [2, 3, 4]
    assert seqs(since=(T0 + timedelta(minutes=3)).replace(tzinfo=None)) == [4, 5]  # naive means UTC
    assert seqs(actions={"read.genotypes"}) == [1, 5]
    assert seqs(actions=["read.*", "grant.add"]) == [1, 2, 3, 5]
    assert seqs(actions=["read.*"], until=T0 + timedelta(minutes=2)) == [1]
    assert seqs(actions=[]) == []


def test_export__entries_carry_their_chain_for_the_steward(five_acts: AuditLog) -> None:
    exported = list(five_acts.export())
    assert exported[-1]["hash"] == five_acts.verify().last_hash
    assert all(e["prev"] == p["hash"] for p, e in itertools.pairwise(exported))


def test_export__stops_with_an_error_at_a_broken_chain(five_acts: AuditLog) -> None:
    lines = _lines(five_acts)
    lines[2] = lines[2].replace(b"read.individual", b"read.individuaL")
    _write_lines(five_acts, lines)
    seen: list[int] = []
    with pytest.raises(AuditChainError, match=r"line 3 \(seq 3\)"):
        for entry in five_acts.export():
            seen.append(entry["seq"])
    assert seen == [1, 2]
