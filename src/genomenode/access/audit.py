"""The append-only, hash-chained audit log: who read, granted, revoked, consented, ingested, erased.

Every act on individual-level data is written here *before* anything leaves the node: `append`
returns only once the entry is on disk (fsync), and raises `AuditUnavailableError` (503) when it
cannot be written, so the caller sends nothing.

File format: JSON Lines, one entry per line, UTF-8, each line the canonical JSON of the entry
(keys sorted, separators `,` and `:`, no ASCII escaping):

    {"action":"read.genotypes","actor":"https://node|alice","details":{"project":"p1"},
     "hash":"<sha256>","outcome":"allowed","prev":"<hash of entry seq-1>","request_id":null,
     "role":"researcher","seq":7,"target":"<pseudonym>","time":"2025-01-31T09:12:33.123456Z"}

`seq` counts from 1 without gaps; `prev` is the previous entry's `hash` (64 zeros for the first);
`hash` is the SHA-256 of the canonical JSON of the entry without `hash`. Beside the log live
`audit.head` (the last seq and hash, replaced atomically after every append) and `audit.lock`
(the flock that serialises API workers and CLI commands appending to the same log).

What the chain detects (`verify` names the first bad entry, by line and seq): an entry altered
(its hash no longer matches), removed or reordered (seq gap, or `prev` no longer links), a line
that is not an entry, and the tail cut off (the head records a later entry than the file ends with).

What it cannot detect on its own: someone able to write the audit folder who rewrites the whole
file *and* the head — recomputing every hash — leaves a chain that verifies. So does deleting the
folder outright (the next append starts a new chain at seq 1). The chain proves consistency, not
authenticity. What anchors it is outside the node: the data steward keeps the `last_hash` of each
`genomenode audit verify` / export; a later log whose entry at that seq carries a different hash,
or that no longer reaches it, has been rewritten.

The log never contains genotypes: details are scalars of bounded length, and keys that name
genotype payloads (`gt`, `genotype`, `calls`, ...) are refused. Raw identifiers cannot be told
from other text here; callers pass pseudonyms, dataset names and file ids as `target`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import math
import os
import re
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, Literal

from genomenode.errors import AuditChainError, AuditUnavailableError

Scalar = str | int | float | bool | None
Outcome = Literal["allowed", "denied", "done", "failed"]
OUTCOMES: frozenset[str] = frozenset({"allowed", "denied", "done", "failed"})

GENESIS = "0" * 64  # the `prev` of the first entry
MAX_DETAILS = 32
MAX_TEXT = 512  # characters in a detail value, actor, role or target
MAX_REQUEST_ID = 128
MAX_LINE_BYTES = 256 * 1024  # well above the largest valid entry (32 details of 512 four-byte characters)
# detail keys that name a genotype payload, matched against each _/./- separated word of the key
GENOTYPE_WORDS = frozenset({"gt", "gts", "genotype", "genotypes", "calls"})

_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
_DETAIL_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_FIELDS = frozenset(
    {"seq", "time", "prev", "action", "actor", "role", "target", "outcome", "details", "request_id", "hash"}
)
_TAMPERED = (
    "the log was altered or damaged from this entry on: keep the file as evidence, compare it with the last "
    "hash exported to the data steward, and tell the steward"
)


@dataclass(frozen=True)
class AuditEvent:
    """One act to record. Validated on construction; `ValueError` names what is wrong."""

    action: str  # dotted: read.genotypes, grant.add, consent.withdraw, ingest, erasure, access.denied, ...
    actor: str  # "issuer|subject" of the caller, or "cli:<os user>"; never a token
    role: str
    target: str  # a dataset name, subject pseudonym or file id; never a raw identifier
    outcome: str  # one of OUTCOMES (see `Outcome`)
    details: Mapping[str, Scalar] = field(default_factory=dict)
    request_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.action, str) or len(self.action) > 64 or not _ACTION.fullmatch(self.action):
            raise ValueError(f"audit action {self.action!r} must be dotted lower-case words, e.g. 'read.genotypes'")
        for name in ("actor", "role", "target"):
            _check_text(name, getattr(self, name), limit=MAX_TEXT)
        if not self.actor:
            raise ValueError("audit actor is empty: name the caller as 'issuer|subject' or 'cli:<os user>'")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"audit outcome {self.outcome!r} must be one of {', '.join(sorted(OUTCOMES))}")
        if self.request_id is not None:
            _check_text("request_id", self.request_id, limit=MAX_REQUEST_ID)
        if not isinstance(self.details, Mapping):
            raise ValueError("audit details must be a mapping of names to scalars")
        if len(self.details) > MAX_DETAILS:
            raise ValueError(f"audit details have {len(self.details)} keys; at most {MAX_DETAILS} are kept")
        for key, value in self.details.items():
            _check_detail(key, value)
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))


@dataclass(frozen=True)
class AuditEntry:
    """What `append` wrote: the entry's place in the chain."""

    seq: int
    hash: str
    time: str


@dataclass(frozen=True)
class VerifyReport:
    entries: int
    last_hash: str  # give this to the data steward: it anchors the log as it is now


class AuditLog:
    """The audit log at `path` (JSON Lines), with `audit.head` and `audit.lock` beside it.

    Log files are created 0600 in a 0700 folder on first append. With `enabled=False` appends do
    nothing and return None (production settings refuse that). `clock` gives the entries' time.
    """

    def __init__(
        self,
        path: Path,
        *,
        enabled: bool = True,
        lock_timeout: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.path = Path(path)
        self.enabled = enabled
        self.lock_timeout = lock_timeout
        self.clock = clock
        self.head_path = self.path.with_suffix(".head")
        self.lock_path = self.path.with_suffix(".lock")

    # -- writing -------------------------------------------------------------------------------
    def append(self, event: AuditEvent) -> AuditEntry | None:
        """Write `event` as the next entry, durably, before returning.

        Raises AuditUnavailableError when it cannot (the folder is unwritable, the disk full, or
        the log disagrees with its head); then no part of the entry is left in the log.
        """
        if not self.enabled:
            return None
        try:
            self._make_folder()
            with self._lock(fcntl.LOCK_EX, create=True):
                return self._append_locked(event)
        except OSError as exc:
            raise AuditUnavailableError(
                f"cannot write the audit log {self.path}: {exc.strerror or exc}; {_advice(exc, self.path.parent)}. "
                "Nothing was sent"
            ) from exc

    def restore_head(self) -> VerifyReport:
        """Check the whole chain and write `audit.head` from its last entry.

        For a steward, after `verify` reported a missing or disagreeing head and the log's last
        hash was checked against one exported earlier; appends refuse to continue until then.
        """
        try:
            self._make_folder()
            with self._lock(fcntl.LOCK_EX, create=True):
                count, last = 0, GENESIS
                fh = _open_read(self.path)
                if fh is not None:
                    with fh:
                        size = os.fstat(fh.fileno()).st_size
                        for entry in self._scan(fh, size, head=None, check_head=False):
                            count, last = entry["seq"], entry["hash"]
                if count:
                    self._replace_head(count, last)
                return VerifyReport(entries=count, last_hash=last)
        except OSError as exc:
            raise AuditUnavailableError(
                f"cannot restore the audit head {self.head_path}: {exc.strerror or exc}; "
                f"{_advice(exc, self.path.parent)}"
            ) from exc

    def _append_locked(self, event: AuditEvent) -> AuditEntry:
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            size = os.fstat(fd).st_size
            last_line, complete = _tail(fd, size)
            if complete != size:
                # a line torn by a crash mid-write; its append never returned, so nothing relied on it
                os.ftruncate(fd, complete)
                os.fsync(fd)
                size = complete
            seq, prev = self._next_link(last_line)
            body: dict[str, Any] = {
                "seq": seq,
                "time": _utc_text(self.clock()),
                "prev": prev,
                "action": event.action,
                "actor": event.actor,
                "role": event.role,
                "target": event.target,
                "outcome": event.outcome,
                "details": dict(event.details),
                "request_id": event.request_id,
            }
            digest = hashlib.sha256(_canonical(body)).hexdigest()
            line = _canonical({**body, "hash": digest}) + b"\n"
            replaced = False
            try:
                _write_all(fd, line)
                os.fsync(fd)
                replaced = self._replace_head(seq, digest)
            except OSError:
                if not replaced:  # take the entry back: log and head must keep agreeing
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, size)
                        os.fsync(fd)
                raise
            return AuditEntry(seq=seq, hash=digest, time=body["time"])
        finally:
            os.close(fd)

    def _next_link(self, last_line: bytes | None) -> tuple[int, str]:
        """The next (seq, prev) after checking the file's last entry against the head."""
        try:
            head = self._read_head()
            last = _parse(last_line) if last_line is not None else None
        except _BadEntry as bad:
            raise AuditUnavailableError(
                f"the audit log {self.path} ends in a damaged entry or head ({bad.reason}): run `genomenode audit "
                "verify` to name it and restore the log from a backup; nothing is sent until then"
            ) from None
        if head is None and last is None:
            return 1, GENESIS
        if head is not None and last is not None:
            if (last["seq"], last["hash"]) == head:
                return head[0] + 1, head[1]
            if last["seq"] == head[0] + 1 and last["prev"] == head[1]:
                # a crash came between writing the entry and its head: the entry stands, the head catches up
                self._replace_head(last["seq"], last["hash"])
                return last["seq"] + 1, last["hash"]
        found = "no entries" if last is None else f"seq {last['seq']}"
        recorded = "no head" if head is None else f"seq {head[0]}"
        raise AuditUnavailableError(
            f"the audit log {self.path} ends at {found} but {self.head_path} records {recorded}: entries were "
            "removed or a file was replaced; nothing is sent until a steward runs `genomenode audit verify`, "
            "checks the last hash against the one exported earlier and restores the head"
        )

    def _replace_head(self, seq: int, digest: str) -> bool:
        """Atomically replace the head; True once the rename happened (even if the folder fsync then failed)."""
        tmp = self.head_path.with_name(self.head_path.name + ".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            try:
                _write_all(fd, _canonical({"seq": seq, "hash": digest}) + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.head_path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        _fsync_dir(self.head_path.parent)
        return True

    def _make_folder(self) -> None:
        folder = self.path.parent
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            _fsync_dir(folder.parent)

    # -- reading -------------------------------------------------------------------------------
    def verify(self) -> VerifyReport:
        """Check every entry's hash, seq and link, and the last one against the head.

        Raises AuditChainError naming the first bad entry (line and seq) and why. Checks the log as
        it was when called: entries appended meanwhile are left for the next run.
        """
        count, last = 0, GENESIS
        for entry in self._entries():
            count, last = entry["seq"], entry["hash"]
        return VerifyReport(entries=count, last_hash=last)

    def export(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actions: Collection[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The entries with `since <= time < until` and an action in `actions`, oldest first.

        Verifies as it goes: every entry yielded has been checked, and a broken chain raises
        AuditChainError where the break is (after the good entries before it were yielded), so an
        export that ends without an error is of an intact log. Naive datetimes are taken as UTC.
        `actions` holds exact names, or `family.*` for every action under `family`.
        """
        low = _aware(since) if since is not None else None
        high = _aware(until) if until is not None else None
        exact = {a for a in actions or () if not a.endswith(".*")}
        families = tuple(a[:-1] for a in actions or () if a.endswith(".*"))
        for entry in self._entries():
            if actions is not None and entry["action"] not in exact and not entry["action"].startswith(families):
                continue
            if low is not None or high is not None:
                when = datetime.fromisoformat(entry["time"])
                if (low is not None and when < low) or (high is not None and when >= high):
                    continue
            yield entry

    def _entries(self) -> Iterator[dict[str, Any]]:
        """Every entry, checked, of the log as it stood under a brief shared lock."""
        try:
            with self._lock(fcntl.LOCK_SH, create=False):
                head = self._read_head()
                fh = _open_read(self.path)
                size = os.fstat(fh.fileno()).st_size if fh is not None else 0
        except _BadEntry as bad:
            raise AuditChainError(f"{self.head_path}: {bad.reason}; {_TAMPERED}") from None
        except OSError as exc:
            raise AuditUnavailableError(
                f"cannot read the audit log {self.path}: {exc.strerror or exc}; {_advice(exc, self.path.parent)}"
            ) from exc
        if fh is None:
            if head is not None:
                raise AuditChainError(
                    f"{self.path}, line 1 (seq 1): the log is missing but {self.head_path} records seq {head[0]}; "
                    f"{_TAMPERED}"
                )
            return
        with fh:
            yield from self._scan(fh, size, head=head, check_head=True)

    def _scan(
        self, fh: IO[bytes], size: int, *, head: tuple[int, str] | None, check_head: bool
    ) -> Iterator[dict[str, Any]]:
        line_no, seq, prev, pos = 0, 0, GENESIS, 0
        while pos < size:
            try:
                raw = fh.readline(min(MAX_LINE_BYTES, size - pos))
            except OSError as exc:
                raise AuditUnavailableError(f"cannot read the audit log {self.path}: {exc.strerror or exc}") from exc
            line_no += 1
            if not raw:
                raise self._bad(line_no, None, "the log got shorter while it was being read")
            pos += len(raw)
            if not raw.endswith(b"\n"):
                raise self._bad(line_no, None, "the line is incomplete or longer than any entry")
            try:
                entry = _parse(raw[:-1])
            except _BadEntry as bad:
                raise self._bad(line_no, bad.seq, bad.reason) from None
            if entry["seq"] != seq + 1:
                why = "entries before it were removed" if entry["seq"] > seq + 1 else "it is out of order"
                raise self._bad(line_no, entry["seq"], f"seq {seq + 1} was expected: {why} (or entries reordered)")
            if entry["prev"] != prev:
                raise self._bad(
                    line_no,
                    entry["seq"],
                    "its prev is not the hash of the entry before it: that one was replaced, or this one inserted",
                )
            seq, prev = entry["seq"], entry["hash"]
            yield entry
        if not check_head:
            return
        if head is None:
            if seq:
                raise AuditChainError(
                    f"{self.head_path} is missing, so the end of the log cannot be checked (an entry may have been "
                    f"removed from the tail); {_TAMPERED}, then restore the head"
                )
        elif head[0] > seq:
            raise self._bad(
                line_no + 1,
                seq + 1,
                f"missing: the log ends at seq {seq} but the head records seq "
                f"{head[0]}, so its last entries were removed",
            )
        elif head[0] < seq:
            raise self._bad(
                head[0] + 1,
                head[0] + 1,
                f"the head records seq {head[0]} as the last entry: the head "
                "was rolled back, or a crash came between this entry and its head (an append repairs that)",
            )
        elif head[1] != prev:
            raise self._bad(line_no, seq, "the last entry's hash differs from the head's: it was replaced")

    def _bad(self, line: int, seq: int | None, reason: str) -> AuditChainError:
        shown = "unreadable" if seq is None else str(seq)
        return AuditChainError(f"{self.path}, line {line} (seq {shown}): {reason}; {_TAMPERED}")

    def _read_head(self) -> tuple[int, str] | None:
        try:
            data = self.head_path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            head = json.loads(data)
        except ValueError:
            raise _BadEntry("the head is not JSON", None) from None
        if (
            not isinstance(head, dict)
            or set(head) != {"seq", "hash"}
            or type(head["seq"]) is not int
            or head["seq"] < 1
            or not isinstance(head["hash"], str)
            or not _HEX64.fullmatch(head["hash"])
        ):
            raise _BadEntry('the head is not {"seq": n, "hash": "<sha256>"}', None)
        return head["seq"], head["hash"]

    @contextlib.contextmanager
    def _lock(self, mode: int, *, create: bool) -> Iterator[None]:
        """flock on `audit.lock`; without `create`, a missing lock file means no writer ever ran here."""
        flags = (os.O_RDWR | os.O_CREAT) if create else os.O_RDONLY
        try:
            fd: int | None = os.open(self.lock_path, flags | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except FileNotFoundError:
            if create:
                raise
            fd = None
        try:
            if fd is not None:
                deadline = time.monotonic() + self.lock_timeout
                delay = 0.001
                while True:
                    try:
                        fcntl.flock(fd, mode | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= deadline:
                            raise AuditUnavailableError(
                                f"{self.lock_path}: another process held the audit log's lock for over "
                                f"{self.lock_timeout:g} s; check for a hung genomenode process. Nothing was sent"
                            ) from None
                        time.sleep(delay)
                        delay = min(delay * 2, 0.05)
            yield
        finally:
            if fd is not None:
                os.close(fd)


class _BadEntry(Exception):
    """Internal: why one line is not a valid entry; turned into AuditChainError with its place."""

    def __init__(self, reason: str, seq: int | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.seq = seq


def _parse(raw: bytes) -> dict[str, Any]:
    """A checked entry from one line (without its newline): well-formed, canonical and hashing right."""
    try:
        entry = json.loads(raw.decode("utf-8"))
    except ValueError:
        raise _BadEntry("the line is not a JSON entry", None) from None
    if not isinstance(entry, dict):
        raise _BadEntry("the line is not a JSON object", None)
    seq = entry.get("seq")
    seq = seq if type(seq) is int else None
    if set(entry) != _FIELDS:
        raise _BadEntry(f"the entry's fields are not {', '.join(sorted(_FIELDS))}", seq)
    texts = ("time", "prev", "action", "actor", "role", "target", "outcome", "hash")
    if (
        seq is None
        or not all(isinstance(entry[k], str) for k in texts)
        or not isinstance(entry["details"], dict)
        or not (entry["request_id"] is None or isinstance(entry["request_id"], str))
        or not _HEX64.fullmatch(entry["hash"])
        or not _HEX64.fullmatch(entry["prev"])
    ):
        raise _BadEntry("a field of the entry has the wrong type", seq)
    body = {k: v for k, v in entry.items() if k != "hash"}
    if hashlib.sha256(_canonical(body)).hexdigest() != entry["hash"]:
        raise _BadEntry("its hash does not match its content: the entry was altered", seq)
    if _canonical(entry) != raw:
        raise _BadEntry("the line is not in the canonical form it was written in: it was edited", seq)
    return entry


def _canonical(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _check_text(name: str, value: object, *, limit: int) -> None:
    if not isinstance(value, str):
        raise ValueError(f"audit {name} must be text, not {type(value).__name__}")
    if len(value) > limit:
        raise ValueError(f"audit {name} is {len(value)} characters; at most {limit} are kept")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError(f"audit {name} is not valid Unicode text") from None


def _check_detail(key: object, value: object) -> None:
    if not isinstance(key, str) or not _DETAIL_KEY.fullmatch(key):
        raise ValueError(f"audit detail key {key!r} must be a short name such as 'project' or 'people_not_covered'")
    if GENOTYPE_WORDS & set(re.split(r"[_.-]", key.lower())):
        raise ValueError(
            f"audit detail {key!r} names a genotype payload; the audit log never contains genotypes: "
            "record what was read (region, count), not the calls"
        )
    if isinstance(value, str):
        _check_text(f"detail {key!r}", value, limit=MAX_TEXT)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"audit detail {key!r} is {value}; only finite numbers are kept")
    elif value is not None and not isinstance(value, int):  # bool is an int
        raise ValueError(f"audit detail {key!r} is a {type(value).__name__}; only text, numbers, booleans or None")


def _utc_text(when: datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("the audit clock must give timezone-aware datetimes")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _aware(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _tail(fd: int, size: int) -> tuple[bytes | None, int]:
    """The last complete line (without newline) and where complete lines end, read from the end."""
    buf, pos = b"", size
    while True:
        end = buf.rfind(b"\n")
        if end != -1:
            start = buf.rfind(b"\n", 0, end)
            if start != -1 or pos == 0:
                return buf[start + 1 : end], pos + end + 1
        elif pos == 0:
            return None, 0
        if len(buf) > MAX_LINE_BYTES:
            return buf, size  # longer than any entry: _parse refuses it, so the append fails closed
        step = min(8192, pos)
        pos -= step
        buf = _pread_exact(fd, step, pos) + buf


def _pread_exact(fd: int, n: int, offset: int) -> bytes:
    chunks: list[bytes] = []
    while n:
        chunk = os.pread(fd, n, offset)
        if not chunk:
            raise OSError(errno.EIO, "the audit log shrank while being read")
        chunks.append(chunk)
        n -= len(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _open_read(path: Path) -> IO[bytes] | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    return os.fdopen(fd, "rb")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _advice(exc: OSError, folder: Path) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"free disk space on the file system holding {folder}"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"make {folder} writable by the user running genomenode (mode 0700, on a read-write file system)"
    if exc.errno in (errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.ELOOP):
        return (
            f"the path is taken: {folder} must be a folder holding regular files (no symlinks); "
            "move what is in the way or set GENOMENODE_DATA_DIR"
        )
    return f"check that {folder} is a writable folder on a healthy disk"
