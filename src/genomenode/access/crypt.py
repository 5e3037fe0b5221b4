"""The encrypted archive: submitted files kept as GA4GH Crypt4GH under the node's key.

A submitted file is stream-encrypted to the node's own X25519 key (`archive_file`). Sharing it
with an authorised recipient (`share_file`) re-encrypts only the Crypt4GH *header*, the small
envelope that carries the file's session key, to the recipient's public key, and copies the
encrypted payload byte for byte, as Federated EGA does: the payload is never decrypted, so no
plaintext reaches the disk to share a file. Internal re-processing (erasure rewriting a VCF
without one sample) reads the plaintext through `open_decrypted` or `plaintext_copy`.

Keys live outside the database, in files only the node's user can read, created on first use:

    archive.c4gh.sec  0600  Crypt4GH private key format, not passphrase-protected (see below)
    archive.c4gh.pub  0644  Crypt4GH public key format: `crypt4gh --recipient_pk/--sender_pk` read it

The secret key is stored without a passphrase because the node reads it unattended: a passphrase
would have to sit in another file or variable beside it and would protect nothing that file
mode 0600 in a 0700 folder does not. It is written in the same layout as
`crypt4gh-keygen --nocrypt` (kdf `none`, cipher `none`), so the crypt4gh command-line tool can use
it too when an operator must decrypt a file by hand.

Every write is atomic (temporary file beside the target, fsync, rename), so a crash or a failing
source never leaves half a file under a final name.

The crypt4gh package logs secret keys, shared keys and session keys at DEBUG level; its loggers
are pinned at import (below) so that no secret reaches a log even when the root logger is at DEBUG.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from crypt4gh import (  # type: ignore[import-untyped]  # crypt4gh ships no type hints
    CIPHER_DIFF,
    CIPHER_SEGMENT_SIZE,
    SEGMENT_SIZE,
    sodium,
)
from crypt4gh import header as c4gh_header
from crypt4gh import lib as c4gh_lib
from crypt4gh.keys import c4gh as c4gh_keys  # type: ignore[import-untyped]  # as above

from genomenode.errors import ConfigurationError, InputError, StoreError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

KEY_BYTES = 32  # X25519 secret and public keys
ARCHIVE_SUFFIX = ".c4gh"
_COPY_CHUNK = 1 << 20
_METHOD_X25519_CHACHA20 = 0  # Crypt4GH header encryption method 0, the only one the format defines

PUBLIC_BEGIN = "-----BEGIN CRYPT4GH PUBLIC KEY-----"
PUBLIC_END = "-----END CRYPT4GH PUBLIC KEY-----"
PRIVATE_BEGIN = "-----BEGIN CRYPT4GH PRIVATE KEY-----"
PRIVATE_END = "-----END CRYPT4GH PRIVATE KEY-----"
_EXPECTED_PUBLIC = (
    f"expected a Crypt4GH public key file ('{PUBLIC_BEGIN}', one base64 line, '{PUBLIC_END}', "
    "as `crypt4gh-keygen` writes) or an OpenSSH 'ssh-ed25519 AAAA...' public key line"
)


# --- Logging -------------------------------------------------------------------------------------
# crypt4gh calls LOG.debug with the secret key, the X25519 shared key and every session key in hex
# (header.py, lib.py, keys/c4gh.py, keys/ssh.py). A node that runs with the root logger at DEBUG,
# or a log shipper that collects everything, would then hold the keys to the whole archive. Each
# crypt4gh logger is set to WARNING *and* given a filter that drops records below WARNING where
# they are made, so the records never propagate to the root's handlers even if a later
# `setLevel(DEBUG)` or `dictConfig` lowers the level again (a logger's own filters survive both).
# Warnings and errors still propagate: crypt4gh puts no key material in them.
_CRYPT4GH_MODULES = (
    "",
    ".lib",
    ".header",
    ".exceptions",
    ".cli",
    ".debug",
    ".__main__",
    ".keys",
    ".keys.c4gh",
    ".keys.ssh",
    ".keys.kdf",
    ".keys.debug",
    ".keys.__main__",
)


class _DropBelowWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


def pin_crypt4gh_logging() -> None:
    """Keep crypt4gh's DEBUG and INFO records (which carry key material) out of every log; idempotent."""
    names = {"crypt4gh" + suffix for suffix in _CRYPT4GH_MODULES}
    names.update(n for n in logging.Logger.manager.loggerDict if n.startswith("crypt4gh."))
    for name in sorted(names):
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        if not any(isinstance(f, _DropBelowWarning) for f in logger.filters):
            logger.addFilter(_DropBelowWarning())


pin_crypt4gh_logging()


# --- Keys ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeArchiveKeys:
    """The node's X25519 key pair for the archive. The secret never appears in a repr or a message."""

    secret: bytes = field(repr=False)
    public: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES or len(self.public) != KEY_BYTES:
            raise ConfigurationError(f"archive keys must be {KEY_BYTES}-byte X25519 keys")
        if bytes(sodium.derive_pk(self.secret)) != self.public:
            raise ConfigurationError("the archive public key does not belong to the archive secret key")

    @property
    def fingerprint(self) -> str:
        """A short, public name for the key pair in messages: SHA-256 of the public key, 16 hex digits."""
        return key_fingerprint(self.public)


def key_fingerprint(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def load_or_create_archive_keys(secret_path: Path, public_path: Path) -> NodeArchiveKeys:
    """Read the node's archive key pair, creating it on first use (secret 0600 in a 0700 folder).

    A missing secret key beside an existing public key is refused rather than replaced: every
    archived file is encrypted to that pair, and a new key could open none of them.
    """
    secret_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    public_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if secret_path.exists():
        secret = _read_secret_key(secret_path)
    elif public_path.exists():
        raise ConfigurationError(
            f"{secret_path}: the archive secret key is missing but its public key {public_path} exists; every "
            f"archived file is encrypted to that pair, so restore {secret_path.name} from the node's backup "
            f"(delete {public_path.name} only if the archive is empty)"
        )
    else:
        secret = secrets.token_bytes(KEY_BYTES)
        try:
            _write_small_file(secret_path, _encode_secret_key(secret), mode=0o600, replace=False)
        except FileExistsError:  # another process created it first: use theirs
            secret = _read_secret_key(secret_path)
    keys = NodeArchiveKeys(secret=secret, public=bytes(sodium.derive_pk(secret)))
    if public_path.exists():
        if read_public_key(public_path) != keys.public:
            raise ConfigurationError(
                f"{public_path}: does not match the archive secret key {secret_path}; delete {public_path.name} "
                "and it is derived again from the secret key"
            )
    else:
        _write_small_file(public_path, encode_public_key(keys.public), mode=0o644, replace=True)
    return keys


def encode_public_key(public: bytes) -> bytes:
    """The Crypt4GH public key file for `public`, as `crypt4gh-keygen` writes it."""
    return f"{PUBLIC_BEGIN}\n{base64.b64encode(public).decode()}\n{PUBLIC_END}\n".encode()


def _encode_secret_key(secret: bytes) -> bytes:
    # The Crypt4GH private key layout without a passphrase: magic, kdf "none", cipher "none", key.
    blob = bytes(c4gh_keys.MAGIC_WORD + c4gh_keys.encode_string(None) * 2 + c4gh_keys.encode_string(secret))
    return f"{PRIVATE_BEGIN}\n{base64.b64encode(blob).decode()}\n{PRIVATE_END}\n".encode()


def _read_secret_key(path: Path) -> bytes:
    with path.open("rb") as fh:
        mode = os.fstat(fh.fileno()).st_mode & 0o777
        if mode & 0o077:
            raise ConfigurationError(
                f"{path}: the archive secret key is readable by others (mode {oct(mode)}); run chmod 600 {path}"
            )
        raw = fh.read()
    # Parsed here rather than by crypt4gh.keys.get_private_key, which calls sys.exit on a bad key.
    restore = f"restore {path.name} from the node's backup"
    try:
        lines = [line.strip() for line in raw.decode("ascii").splitlines() if line.strip()]
        if len(lines) < 3 or lines[0] != PRIVATE_BEGIN or lines[-1] != PRIVATE_END:
            raise ValueError("not a Crypt4GH private key")
        stream = io.BytesIO(base64.b64decode("".join(lines[1:-1]), validate=True))
        if stream.read(len(c4gh_keys.MAGIC_WORD)) != c4gh_keys.MAGIC_WORD:
            raise ValueError("not a Crypt4GH private key")
        kdf, cipher = c4gh_keys.decode_string(stream), c4gh_keys.decode_string(stream)
        secret = bytes(c4gh_keys.decode_string(stream))
    except (UnicodeDecodeError, binascii.Error, ValueError):
        raise ConfigurationError(f"{path}: not a Crypt4GH private key; {restore}") from None
    if kdf != b"none" or cipher != b"none":
        raise ConfigurationError(
            f"{path}: the archive secret key is passphrase-protected, but the node reads it unattended; store it "
            "without a passphrase (as `crypt4gh-keygen --nocrypt` writes it), protected by mode 0600"
        )
    if len(secret) != KEY_BYTES:
        raise ConfigurationError(f"{path}: not a {KEY_BYTES}-byte X25519 key; {restore}")
    return secret


def read_public_key(source: Path | str) -> bytes:
    """A recipient's X25519 public key from a file (a Path) or from the key's text (a str).

    Accepts the Crypt4GH public key format and OpenSSH `ssh-ed25519` public keys (converted to
    X25519 as crypt4gh does). Anything else raises InputError naming the source and the format.
    """
    if isinstance(source, Path):
        name = str(source)
        try:
            text = source.read_bytes().decode("ascii")
        except FileNotFoundError:
            raise InputError(f"{source}: no such file; {_EXPECTED_PUBLIC}") from None
        except UnicodeDecodeError:
            raise InputError(f"{source}: not a text file; {_EXPECTED_PUBLIC}") from None
        except OSError as exc:
            raise InputError(f"{source}: cannot be read ({exc.strerror}); {_EXPECTED_PUBLIC}") from None
    else:
        name, text = "the public key text", source
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and "PRIVATE KEY" in lines[0]:
        # Never echo the content: it is someone's secret.
        raise InputError(
            f"{name}: this is a private key; ask the recipient for their public key (the .pub file) instead, "
            "and tell them this one has been exposed"
        )
    if len(lines) >= 3 and lines[0] == PUBLIC_BEGIN and lines[-1] == PUBLIC_END:
        try:
            key = base64.b64decode("".join(lines[1:-1]), validate=True)
        except binascii.Error:
            raise InputError(f"{name}: the key is not valid base64; {_EXPECTED_PUBLIC}") from None
        if len(key) != KEY_BYTES:
            raise InputError(f"{name}: the key is {len(key)} bytes, not {KEY_BYTES}; {_EXPECTED_PUBLIC}")
    elif len(lines) == 1 and lines[0].startswith("ssh-"):
        key = _ssh_ed25519_to_x25519(lines[0], name)
    else:
        raise InputError(f"{name}: not a public key; {_EXPECTED_PUBLIC}")
    _require_usable_public_key(key, name)
    return key


def _ssh_ed25519_to_x25519(line: str, name: str) -> bytes:
    kind, _, rest = line.partition(" ")
    if kind != "ssh-ed25519":
        raise InputError(
            f"{name}: an OpenSSH {kind} key; only ssh-ed25519 keys work with Crypt4GH ({_EXPECTED_PUBLIC})"
        )
    try:
        blob = io.BytesIO(base64.b64decode(rest.split(" ", 1)[0], validate=True))
        if _ssh_string(blob) != b"ssh-ed25519":
            raise ValueError("key type")
        ed25519 = _ssh_string(blob)
        if len(ed25519) != KEY_BYTES:
            raise ValueError("key length")
        return bytes(sodium.sign_ed25519_pk_to_curve25519(ed25519))
    except (binascii.Error, ValueError, RuntimeError):
        raise InputError(f"{name}: not a valid ssh-ed25519 public key; {_EXPECTED_PUBLIC}") from None


def _ssh_string(stream: io.BytesIO) -> bytes:
    size = int.from_bytes(stream.read(4), "big")
    data = stream.read(size)
    if len(data) != size:
        raise ValueError("truncated")
    return data


def _require_usable_public_key(key: bytes, name: str) -> None:
    # libsodium refuses low-order points (the all-zero key and a few others): the shared key would
    # be known to anyone. Its binding reports that as SystemError, so try once with a throwaway key.
    throwaway = secrets.token_bytes(KEY_BYTES)
    try:
        sodium.kx_server(sodium.derive_pk(throwaway), throwaway, key)
    except Exception:
        raise InputError(
            f"{name}: not a usable X25519 public key (a weak, low-order point); {_EXPECTED_PUBLIC}"
        ) from None


# --- Archive, share, decrypt ---------------------------------------------------------------------


@dataclass(frozen=True)
class ArchivedFile:
    path: Path
    plaintext_sha256: str
    plaintext_bytes: int
    encrypted_bytes: int


@dataclass(frozen=True)
class SharedFile:
    path: Path
    header_bytes: int  # the recipient's new header; the rest is the archived payload unchanged
    encrypted_bytes: int
    recipient_fingerprint: str


def archive_file(src: Path | BinaryIO, dest: Path, keys: NodeArchiveKeys, *, replace: bool = False) -> ArchivedFile:
    """Encrypt `src` to the node's key as `dest`, streaming, hashing the plaintext on the way.

    `src` is a file or an open binary stream (an upload need not touch the disk unencrypted).
    `dest` appears whole or not at all; an existing `dest` is refused unless `replace=True`
    (erasure rewriting an archived file). Archive files and new folders are readable by the node only.
    """
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with ExitStack() as stack:
        if isinstance(src, Path):
            try:
                raw: BinaryIO = stack.enter_context(src.open("rb"))
            except FileNotFoundError:
                raise InputError(f"{src}: no such file to archive") from None
            except IsADirectoryError:
                raise InputError(f"{src}: is a folder; archive each file in it") from None
        else:
            raw = src
        reader = _HashingReader(raw)
        try:
            with _atomic_output(dest, replace=replace) as out:
                c4gh_lib.encrypt([(_METHOD_X25519_CHACHA20, keys.secret, keys.public)], reader, out)
        except FileExistsError:
            raise StoreError(
                f"{dest}: already archived; archive files are never overwritten unless replace=True (erasure)"
            ) from None
    return ArchivedFile(
        path=dest,
        plaintext_sha256=reader.hexdigest(),
        plaintext_bytes=reader.count,
        encrypted_bytes=dest.stat().st_size,
    )


def share_file(archived: Path, out: Path, keys: NodeArchiveKeys, recipient_public: bytes) -> SharedFile:
    """Write `out`: `archived` with its header re-encrypted for `recipient_public`, payload copied as is.

    The node's key opens the header (the session key) and seals it again to the recipient; the
    payload segments are copied unchanged and never decrypted. The new header holds only the
    recipient's packet, which names the node's public key as its writer (`crypt4gh decrypt
    --sender_pk archive.c4gh.pub` checks that), so the copy opens with the recipient's key only.
    """
    # Built from crypt4gh.header rather than crypt4gh.lib.reencrypt/decrypt: those are wrapped in
    # `close_on_broken_pipe`, which swallows every OSError (a full disk, a read error) and returns
    # normally, so a cut-short output would be renamed into place as if complete.
    _require_usable_public_key(recipient_public, "the recipient's public key")
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _open_archived(archived) as fin:
        packets = _parse_header(fin, archived)
        try:
            new_packets = c4gh_header.reencrypt(
                packets,
                [(_METHOD_X25519_CHACHA20, keys.secret, None)],
                [(_METHOD_X25519_CHACHA20, keys.secret, recipient_public)],
                trim=True,  # forward nothing the node cannot read itself
            )
        except ValueError:
            raise _wrong_key(archived, keys) from None
        header = bytes(c4gh_header.serialize(new_packets))
        with _atomic_output(out, replace=True) as fout:
            fout.write(header)
            shutil.copyfileobj(fin, fout, _COPY_CHUNK)
    return SharedFile(
        path=out,
        header_bytes=len(header),
        encrypted_bytes=out.stat().st_size,
        recipient_fingerprint=key_fingerprint(recipient_public),
    )


@contextmanager
def open_decrypted(archived: Path, keys: NodeArchiveKeys, *, expected_sha256: str | None = None) -> Iterator[BinaryIO]:
    """A readable binary stream of `archived`'s plaintext, decrypted one 64 KiB segment at a time.

    Crypt4GH authenticates each segment but cannot tell when whole trailing segments were cut
    off; pass the `plaintext_sha256` recorded at archiving as `expected_sha256` and reading to the
    end raises StoreError if the plaintext differs.
    """
    with _open_archived(archived) as fin:
        packets = _parse_header(fin, archived)
        opened, _ = c4gh_header.decrypt(packets, [(_METHOD_X25519_CHACHA20, keys.secret, None)])
        if not opened:
            raise _wrong_key(archived, keys)
        try:
            data_packets, edit_list = c4gh_header.partition_packets(opened)
            session_keys = [bytes(c4gh_header.parse_enc_packet(p)) for p in data_packets]
        except ValueError as exc:
            raise StoreError(f"{archived}: unsupported Crypt4GH header ({exc}); re-archive the file") from None
        if edit_list is not None:
            raise StoreError(f"{archived}: has a Crypt4GH edit list, which the node never writes; re-archive the file")
        raw = _DecryptingReader(fin, session_keys, archived, expected_sha256)
        with io.BufferedReader(raw, buffer_size=SEGMENT_SIZE) as stream:
            yield stream


def decrypt_to(archived: Path, out: Path, keys: NodeArchiveKeys, *, expected_sha256: str | None = None) -> None:
    """Write `archived`'s plaintext to `out` (mode 0600, atomically) for internal re-processing.

    `out`'s folder must be open to the node's user only (0700; created so if missing), and the
    caller removes the plaintext as soon as it is done: `plaintext_copy` does both.
    """
    _require_private_folder(out.parent)
    with (
        open_decrypted(archived, keys, expected_sha256=expected_sha256) as stream,
        _atomic_output(out, replace=True) as fout,
    ):
        shutil.copyfileobj(stream, fout, _COPY_CHUNK)


@contextmanager
def plaintext_copy(
    archived: Path, keys: NodeArchiveKeys, *, expected_sha256: str | None = None, work_dir: Path | None = None
) -> Iterator[Path]:
    """A decrypted copy of `archived` in a fresh 0700 folder, removed when the block exits.

    For tools that need a path (cyvcf2 reading a VCF). `work_dir` chooses where the folder goes
    (default: the system's temporary folder).
    """
    with tempfile.TemporaryDirectory(prefix="genomenode-plaintext-", dir=work_dir) as folder:
        path = Path(folder) / (archived.name.removesuffix(ARCHIVE_SUFFIX) or "plaintext")
        decrypt_to(archived, path, keys, expected_sha256=expected_sha256)
        yield path


# --- Helpers -------------------------------------------------------------------------------------


class _HashingReader:
    """Wraps the source for crypt4gh's encrypt loop: counts and hashes exactly what it encrypts.

    crypt4gh treats a short `readinto` as the end of the file, so this one fills the buffer
    unless the source is at its end (pipes and sockets return short reads).
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._digest = hashlib.sha256()
        self.count = 0

    def readinto(self, buffer: bytearray) -> int:
        filled = 0
        with memoryview(buffer) as view:
            while filled < len(view):
                chunk = self._raw.read(len(view) - filled)
                if not chunk:
                    break
                view[filled : filled + len(chunk)] = chunk
                filled += len(chunk)
            self._digest.update(view[:filled])
        self.count += filled
        return filled

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


class _DecryptingReader(io.RawIOBase):
    """Raw stream over a Crypt4GH payload: each read returns (part of) one decrypted segment."""

    def __init__(self, fin: BinaryIO, session_keys: list[bytes], archived: Path, expected_sha256: str | None) -> None:
        super().__init__()
        self._fin = fin
        self._session_keys = session_keys
        self._archived = archived
        self._expected = expected_sha256
        self._digest = hashlib.sha256() if expected_sha256 is not None else None
        self._plain = bytearray(SEGMENT_SIZE)
        self._pending = memoryview(b"")
        self._segment = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        if not self._pending and not self._done:
            self._next_segment()
        with memoryview(buffer) as whole, whole.cast("B") as view:
            n = min(len(self._pending), len(view))
            view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _next_segment(self) -> None:
        cipher = self._fin.read(CIPHER_SEGMENT_SIZE)
        if not cipher:
            self._done = True
            if self._digest is not None and self._digest.hexdigest() != self._expected:
                raise StoreError(
                    f"{self._archived}: the decrypted content does not match its recorded SHA-256 (the file was "
                    "truncated or replaced); restore it from the node's backup"
                )
            return
        self._segment += 1
        if len(cipher) <= CIPHER_DIFF:
            raise StoreError(
                f"{self._archived}: segment {self._segment} is truncated; restore it from the node's backup"
            )
        try:
            size = c4gh_lib.decrypt_block(self._plain, cipher, self._session_keys)
        except ValueError:
            raise StoreError(
                f"{self._archived}: segment {self._segment} fails authentication (the file was altered or damaged); "
                "restore it from the node's backup"
            ) from None
        self._pending = memoryview(self._plain)[:size]
        if self._digest is not None:
            self._digest.update(self._pending)


@contextmanager
def _open_archived(archived: Path) -> Iterator[BinaryIO]:
    try:
        fh = archived.open("rb")
    except FileNotFoundError:
        raise StoreError(f"{archived}: archived file missing; restore it from the node's backup") from None
    with fh:
        yield fh


def _parse_header(fin: BinaryIO, archived: Path) -> list[bytes]:
    """The header's (still encrypted) packets; leaves `fin` at the first payload byte."""
    try:
        return [bytes(p) for p in c4gh_header.parse(fin)]
    except ValueError as exc:
        raise StoreError(f"{archived}: not a Crypt4GH file ({exc}); restore it from the node's backup") from None


def _wrong_key(archived: Path, keys: NodeArchiveKeys) -> StoreError:
    return StoreError(
        f"{archived}: the node's archive key (fingerprint {keys.fingerprint}) cannot open this file's header: it "
        "was encrypted to another key. Check that the secrets folder holds the node's own archive.c4gh.sec "
        "(restore it from backup), or that this file belongs to this node's archive"
    )


def _require_private_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = folder.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigurationError(
            f"{folder}: plaintext may only be written to a folder that only the node's user can open "
            f"(mode {oct(mode)}); run chmod 700 {folder}, or use plaintext_copy()"
        )


@contextmanager
def _atomic_output(dest: Path, *, replace: bool) -> Iterator[BinaryIO]:
    """A 0600 temporary file beside `dest`, fsynced and renamed onto it only if the block succeeds.

    With `replace=False` the rename is a hard link, which fails with FileExistsError rather than
    overwrite an existing `dest`, even one created a moment ago by another process.
    """
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, dest)
        else:
            os.link(tmp, dest)
            tmp.unlink()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(dest.parent)


def _write_small_file(path: Path, data: bytes, *, mode: int, replace: bool) -> None:
    with _atomic_output(path, replace=replace) as fh:
        os.fchmod(fh.fileno(), mode)
        fh.write(data)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
