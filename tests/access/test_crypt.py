"""The Crypt4GH archive: files kept encrypted, shared by re-encrypting the header only, keys kept secret."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import logging
import os
import random
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from crypt4gh import SEGMENT_SIZE, sodium
from crypt4gh import header as c4gh_header
from crypt4gh import keys as c4gh_keys
from crypt4gh import lib as c4gh_lib
from crypt4gh.keys import c4gh as c4gh_key_format
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from genomenode.access.crypt import (
    NodeArchiveKeys,
    archive_file,
    decrypt_to,
    load_or_create_archive_keys,
    open_decrypted,
    pin_crypt4gh_logging,
    plaintext_copy,
    read_public_key,
    share_file,
)
from genomenode.errors import ConfigurationError, InputError, StoreError
from tests.conftest import G1K_JOINT, PLATINUM, require_testdata


@pytest.fixture
def node_keys(tmp_path: Path) -> NodeArchiveKeys:
    return load_or_create_archive_keys(
        tmp_path / "secrets" / "archive.c4gh.sec", tmp_path / "secrets" / "archive.c4gh.pub"
    )


@pytest.fixture
def recipient_keys(tmp_path: Path) -> NodeArchiveKeys:
    """A recipient's pair; the same type is handy, the recipient would use crypt4gh-keygen."""
    return load_or_create_archive_keys(tmp_path / "recipient" / "key.sec", tmp_path / "recipient" / "key.pub")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder only the node's user can open, for plaintext."""
    folder = tmp_path / "work"
    folder.mkdir(mode=0o700)
    return folder


@pytest.fixture
def vcf_gz() -> Path:
    require_testdata()
    return G1K_JOINT  # 1.2 MB: 19 Crypt4GH segments


def plain_decrypt(path: Path, secret: bytes, *, sender_public: bytes | None = None) -> bytes:
    """Decrypt as a recipient would, with crypt4gh's own library."""
    out = io.BytesIO()
    with path.open("rb") as fh:
        c4gh_lib.decrypt([(0, secret, None)], fh, out, sender_pubkey=sender_public)
    return out.getvalue()


def split_header(path: Path) -> tuple[bytes, bytes]:
    """(header, payload) of a Crypt4GH file, the header's length read by crypt4gh's parser."""
    with path.open("rb") as fh:
        list(c4gh_header.parse(fh))
        header_len = fh.tell()
    data = path.read_bytes()
    return data[:header_len], data[header_len:]


# --- archive -------------------------------------------------------------------------------------


def test_archive__round_trip_restores_identical_bytes_and_sha256_matches(
    tmp_path: Path, node_keys: NodeArchiveKeys, work: Path, vcf_gz: Path
) -> None:
    archived = archive_file(vcf_gz, tmp_path / "archive" / "f1.vcf.gz.c4gh", node_keys)

    original = vcf_gz.read_bytes()
    assert archived.plaintext_sha256 == hashlib.sha256(original).hexdigest()
    assert archived.plaintext_bytes == len(original)
    assert archived.encrypted_bytes == archived.path.stat().st_size > len(original)
    decrypt_to(archived.path, work / "f1.vcf.gz", node_keys, expected_sha256=archived.plaintext_sha256)
    assert (work / "f1.vcf.gz").read_bytes() == original
    with open_decrypted(archived.path, node_keys, expected_sha256=archived.plaintext_sha256) as stream:
        assert stream.read() == original
    # crypt4gh's own decryption agrees: the archive is standard Crypt4GH
    assert plain_decrypt(archived.path, node_keys.secret, sender_public=node_keys.public) == original


@pytest.mark.parametrize(
    "size", [0, 1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 2 * SEGMENT_SIZE, 2 * SEGMENT_SIZE + 7]
)
def test_archive__round_trip_at_segment_boundaries(tmp_path: Path, node_keys: NodeArchiveKeys, size: int) -> None:
    data = random.Random(size).randbytes(size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    archived = archive_file(src, tmp_path / "archive" / "src.bin.c4gh", node_keys)

    assert archived.plaintext_bytes == size
    with open_decrypted(archived.path, node_keys, expected_sha256=archived.plaintext_sha256) as stream:
        chunks = iter(lambda: stream.read(10_000), b"")  # many small reads across segment edges
        assert b"".join(chunks) == data


def test_archive__from_an_upload_stream_with_short_reads(tmp_path: Path, node_keys: NodeArchiveKeys) -> None:
    class Trickle(io.RawIOBase):  # a socket-like source: at most 1000 bytes per read
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            return self._data.read(min(size, 1000) if size >= 0 else 1000)

    data = random.Random(1).randbytes(3 * SEGMENT_SIZE + 5)
    archived = archive_file(Trickle(data), tmp_path / "archive" / "upload.c4gh", node_keys)  # type: ignore[arg-type]

    assert archived.plaintext_sha256 == hashlib.sha256(data).hexdigest()
    assert plain_decrypt(archived.path, node_keys.secret) == data


def test_archive__file_holds_no_plaintext(tmp_path: Path, node_keys: NodeArchiveKeys) -> None:
    require_testdata()
    # GIVEN an uncompressed VCF (a real one) whose header and sample name are easy to spot
    src = tmp_path / "NA12878.genome.vcf"
    with gzip.open(PLATINUM / "1K.end.platinum-genomes-vcf-NA12878_S1.genome.vcf.gz") as gz:
        src.write_bytes(gz.read())
    plaintext = src.read_bytes()
    assert b"##fileformat=VCF" in plaintext and b"NA12878" in plaintext and len(plaintext) > SEGMENT_SIZE
    # WHEN it is archived
    archived = archive_file(src, tmp_path / "archive" / "NA12878.genome.vcf.c4gh", node_keys)
    # THEN the archive file shows neither, and is readable by the node only
    stored = archived.path.read_bytes()
    assert b"##fileformat" not in stored and b"NA12878" not in stored and b"#CHROM" not in stored
    assert stat.S_IMODE(archived.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(archived.path.parent.stat().st_mode) == 0o700


def test_archive__existing_file_is_never_overwritten_unless_replace(tmp_path: Path, node_keys: NodeArchiveKeys) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_bytes(b"first version\n")
    second.write_bytes(b"second version, without one sample\n")
    dest = tmp_path / "archive" / "f.c4gh"
    archive_file(first, dest, node_keys)
    before = dest.read_bytes()

    with pytest.raises(StoreError, match="already archived"):
        archive_file(second, dest, node_keys)
    assert dest.read_bytes() == before
    assert sorted(p.name for p in dest.parent.iterdir()) == ["f.c4gh"]  # no temporary file left

    archive_file(second, dest, node_keys, replace=True)
    assert plain_decrypt(dest, node_keys.secret) == second.read_bytes()


def test_archive__source_failing_midway_leaves_no_file(tmp_path: Path, node_keys: NodeArchiveKeys) -> None:
    class FailsAfter(io.RawIOBase):  # a disk or upload that breaks after three segments
        def __init__(self) -> None:
            self._given = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            if self._given >= 3 * SEGMENT_SIZE:
                raise OSError(5, "Input/output error")
            self._given += SEGMENT_SIZE
            return b"x" * SEGMENT_SIZE

    folder = tmp_path / "archive"
    with pytest.raises(OSError, match="Input/output error"):
        archive_file(FailsAfter(), folder / "broken.c4gh", node_keys)  # type: ignore[arg-type]
    assert list(folder.iterdir()) == []


def test_archive__a_folder_or_missing_source_is_an_input_error(tmp_path: Path, node_keys: NodeArchiveKeys) -> None:
    folder = tmp_path / "archive"
    with pytest.raises(InputError, match="is a folder"):
        archive_file(tmp_path, folder / "x.c4gh", node_keys)
    with pytest.raises(InputError, match="no such file"):
        archive_file(tmp_path / "absent.vcf", folder / "y.c4gh", node_keys)
    assert list(folder.iterdir()) == []


# --- share ---------------------------------------------------------------------------------------


def test_share__recipient_decrypts_the_original_bytes_and_can_check_the_sender(
    tmp_path: Path, node_keys: NodeArchiveKeys, recipient_keys: NodeArchiveKeys, vcf_gz: Path
) -> None:
    archived = archive_file(vcf_gz, tmp_path / "archive" / "f1.c4gh", node_keys)
    shared = share_file(archived.path, tmp_path / "outbox" / "f1.c4gh", node_keys, recipient_keys.public)

    assert plain_decrypt(shared.path, recipient_keys.secret, sender_public=node_keys.public) == vcf_gz.read_bytes()
    assert shared.encrypted_bytes == shared.path.stat().st_size


def test_share__payload_after_the_header_is_byte_identical(
    tmp_path: Path, node_keys: NodeArchiveKeys, recipient_keys: NodeArchiveKeys, vcf_gz: Path
) -> None:
    archived = archive_file(vcf_gz, tmp_path / "archive" / "f1.c4gh", node_keys)
    shared = share_file(archived.path, tmp_path / "outbox" / "f1.c4gh", node_keys, recipient_keys.public)

    archived_header, archived_payload = split_header(archived.path)
    shared_header, shared_payload = split_header(shared.path)
    assert shared_payload == archived_payload  # only the header was re-encrypted
    assert shared_header != archived_header and len(shared_header) == shared.header_bytes
    # and both headers carry the same session key, opened by their own owners
    with archived.path.open("rb") as fh:
        node_session, _ = c4gh_header.deconstruct(fh, [(0, node_keys.secret, None)])
    with shared.path.open("rb") as fh:
        recipient_session, _ = c4gh_header.deconstruct(fh, [(0, recipient_keys.secret, None)])
    assert node_session == recipient_session


def test_share__only_the_recipient_can_open_the_copy(
    tmp_path: Path, node_keys: NodeArchiveKeys, recipient_keys: NodeArchiveKeys, vcf_gz: Path
) -> None:
    archived = archive_file(vcf_gz, tmp_path / "archive" / "f1.c4gh", node_keys)
    shared = share_file(archived.path, tmp_path / "outbox" / "f1.c4gh", node_keys, recipient_keys.public)
    someone_else = os.urandom(32)

    with pytest.raises(ValueError, match="No supported encryption method"):
        plain_decrypt(shared.path, someone_else)
    with pytest.raises(ValueError, match="No supported encryption method"):
        plain_decrypt(archived.path, recipient_keys.secret)  # the archive itself stays the node's
    with (  # the header holds the recipient's packet only
        pytest.raises(StoreError, match="cannot open this file's header"),
        open_decrypted(shared.path, node_keys),
    ):
        pass


def test_share__with_keys_and_decryption_by_the_crypt4gh_tool(
    tmp_path: Path, node_keys: NodeArchiveKeys, vcf_gz: Path
) -> None:
    # GIVEN a recipient who made their keys with crypt4gh-keygen and sends us the .pub file
    folder = tmp_path / "recipient-home"
    folder.mkdir(mode=0o700)
    keygen = Path(sys.executable).parent / "crypt4gh-keygen"
    tool = Path(sys.executable).parent / "crypt4gh"
    subprocess.run(
        [keygen, "--nocrypt", "--sk", folder / "me.sec", "--pk", folder / "me.pub"], check=True, capture_output=True
    )
    archived = archive_file(vcf_gz, tmp_path / "archive" / "f1.c4gh", node_keys)
    # WHEN the node shares the file with them
    shared = share_file(archived.path, tmp_path / "outbox" / "f1.c4gh", node_keys, read_public_key(folder / "me.pub"))
    # THEN `crypt4gh decrypt` with their secret key restores it, and checks it came from the node
    node_pub = tmp_path / "secrets" / "archive.c4gh.pub"
    with shared.path.open("rb") as stdin:
        done = subprocess.run(
            [tool, "decrypt", "--sk", folder / "me.sec", "--sender_pk", node_pub], stdin=stdin, capture_output=True
        )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == vcf_gz.read_bytes()


def test_share__to_an_openssh_ed25519_key(tmp_path: Path, node_keys: NodeArchiveKeys) -> None:
    ssh_key = Ed25519PrivateKey.generate()
    private = tmp_path / "id_ed25519"
    private.write_bytes(
        ssh_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
    )
    line = ssh_key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    src = tmp_path / "f.txt"
    src.write_bytes(b"chr1\t12345\t.\tA\tG\n" * 5000)
    archived = archive_file(src, tmp_path / "archive" / "f.c4gh", node_keys)

    shared = share_file(
        archived.path, tmp_path / "f.shared.c4gh", node_keys, read_public_key(line.decode() + " me@lab")
    )

    recipient_secret = c4gh_keys.get_private_key(private, callback=None)  # crypt4gh reads the SSH key itself
    assert plain_decrypt(shared.path, recipient_secret) == src.read_bytes()


def test_share__archive_encrypted_to_another_key_is_refused_clearly(
    tmp_path: Path, node_keys: NodeArchiveKeys, recipient_keys: NodeArchiveKeys
) -> None:
    src = tmp_path / "f.txt"
    src.write_bytes(b"data\n")
    foreign = archive_file(src, tmp_path / "archive" / "foreign.c4gh", recipient_keys)
    out = tmp_path / "outbox" / "f.c4gh"
    out.parent.mkdir()

    with pytest.raises(StoreError, match=f"archive key \\(fingerprint {node_keys.fingerprint}\\) cannot open"):
        share_file(foreign.path, out, node_keys, recipient_keys.public)
    with pytest.raises(StoreError, match="not a Crypt4GH file"):
        share_file(src, out, node_keys, recipient_keys.public)
    assert list(out.parent.iterdir()) == []


def test_share__weak_recipient_key_is_refused(tmp_path: Path, node_keys: NodeArchiveKeys) -> None:
    src = tmp_path / "f.txt"
    src.write_bytes(b"data\n")
    archived = archive_file(src, tmp_path / "archive" / "f.c4gh", node_keys)
    with pytest.raises(InputError, match="low-order"):
        share_file(archived.path, tmp_path / "out.c4gh", node_keys, bytes(32))


# --- decrypt -------------------------------------------------------------------------------------


def test_decrypt__altered_segment_is_refused(tmp_path: Path, node_keys: NodeArchiveKeys, work: Path) -> None:
    src = tmp_path / "f.bin"
    src.write_bytes(random.Random(2).randbytes(3 * SEGMENT_SIZE))
    archived = archive_file(src, tmp_path / "archive" / "f.c4gh", node_keys)
    data = bytearray(archived.path.read_bytes())
    data[-SEGMENT_SIZE] ^= 1  # one bit in the last segment
    archived.path.write_bytes(bytes(data))

    with pytest.raises(StoreError, match="segment 3 fails authentication"):
        decrypt_to(archived.path, work / "f.bin", node_keys)
    assert list(work.iterdir()) == []


def test_decrypt__whole_segments_cut_off_are_caught_by_the_recorded_sha256(
    tmp_path: Path, node_keys: NodeArchiveKeys, work: Path
) -> None:
    src = tmp_path / "f.bin"
    src.write_bytes(random.Random(3).randbytes(3 * SEGMENT_SIZE))
    archived = archive_file(src, tmp_path / "archive" / "f.c4gh", node_keys)
    header, payload = split_header(archived.path)
    archived.path.write_bytes(header + payload[: len(payload) * 2 // 3])  # Crypt4GH itself cannot tell

    with pytest.raises(StoreError, match="does not match its recorded SHA-256"):
        decrypt_to(archived.path, work / "f.bin", node_keys, expected_sha256=archived.plaintext_sha256)
    assert list(work.iterdir()) == []


def test_decrypt_to__refuses_a_folder_others_can_open(tmp_path: Path, node_keys: NodeArchiveKeys) -> None:
    src = tmp_path / "f.txt"
    src.write_bytes(b"data\n")
    archived = archive_file(src, tmp_path / "archive" / "f.c4gh", node_keys)
    shared_folder = tmp_path / "shared"
    shared_folder.mkdir()
    shared_folder.chmod(0o755)

    with pytest.raises(ConfigurationError, match="chmod 700"):
        decrypt_to(archived.path, shared_folder / "f.txt", node_keys)
    assert list(shared_folder.iterdir()) == []


def test_plaintext_copy__private_while_used_and_removed_after(tmp_path: Path, node_keys: NodeArchiveKeys) -> None:
    src = tmp_path / "f.vcf"
    src.write_bytes(b"##fileformat=VCFv4.2\n")
    archived = archive_file(src, tmp_path / "archive" / "f.vcf.c4gh", node_keys)
    work_dir = tmp_path / "work"
    work_dir.mkdir(mode=0o700)

    with plaintext_copy(archived.path, node_keys, expected_sha256=archived.plaintext_sha256, work_dir=work_dir) as p:
        assert p.name == "f.vcf" and p.read_bytes() == src.read_bytes()
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
        assert stat.S_IMODE(p.parent.stat().st_mode) == 0o700
    assert not p.exists() and list(work_dir.iterdir()) == []


# --- keys ----------------------------------------------------------------------------------------


def test_keys__created_once_readable_only_by_the_node(tmp_path: Path) -> None:
    secret, public = tmp_path / "secrets" / "archive.c4gh.sec", tmp_path / "secrets" / "archive.c4gh.pub"
    keys = load_or_create_archive_keys(secret, public)

    assert load_or_create_archive_keys(secret, public) == keys
    assert len(keys.secret) == 32 and keys.public == sodium.derive_pk(keys.secret)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret.parent.stat().st_mode) == 0o700
    assert keys.secret.hex() not in repr(keys)
    assert sorted(p.name for p in secret.parent.iterdir()) == ["archive.c4gh.pub", "archive.c4gh.sec"]


def test_keys__files_are_in_the_crypt4gh_formats_the_tool_reads(tmp_path: Path) -> None:
    secret, public = tmp_path / "secrets" / "archive.c4gh.sec", tmp_path / "secrets" / "archive.c4gh.pub"
    keys = load_or_create_archive_keys(secret, public)

    assert public.read_text().splitlines()[0] == "-----BEGIN CRYPT4GH PUBLIC KEY-----"
    assert secret.read_text().splitlines()[0] == "-----BEGIN CRYPT4GH PRIVATE KEY-----"
    assert c4gh_keys.get_public_key(public) == keys.public
    assert c4gh_keys.get_private_key(secret, callback=None) == keys.secret  # no passphrase asked


def test_keys__group_readable_secret_is_refused(tmp_path: Path) -> None:
    secret, public = tmp_path / "archive.c4gh.sec", tmp_path / "archive.c4gh.pub"
    load_or_create_archive_keys(secret, public)
    secret.chmod(0o640)
    with pytest.raises(ConfigurationError, match=f"chmod 600 {secret}"):
        load_or_create_archive_keys(secret, public)


def test_keys__lost_secret_is_not_silently_replaced(tmp_path: Path) -> None:
    secret, public = tmp_path / "archive.c4gh.sec", tmp_path / "archive.c4gh.pub"
    load_or_create_archive_keys(secret, public)
    secret.unlink()
    with pytest.raises(ConfigurationError, match=re.escape("restore archive.c4gh.sec from the node's backup")):
        load_or_create_archive_keys(secret, public)
    assert not secret.exists()


def test_keys__public_file_is_rederived_or_must_match(tmp_path: Path) -> None:
    secret, public = tmp_path / "archive.c4gh.sec", tmp_path / "archive.c4gh.pub"
    keys = load_or_create_archive_keys(secret, public)
    public.unlink()
    assert load_or_create_archive_keys(secret, public) == keys and public.exists()
    other = load_or_create_archive_keys(tmp_path / "other.sec", tmp_path / "other.pub")
    shutil.copy(tmp_path / "other.pub", public)
    assert other.public != keys.public
    with pytest.raises(ConfigurationError, match="does not match the archive secret key"):
        load_or_create_archive_keys(secret, public)


def test_keys__passphrase_protected_secret_is_refused_with_what_to_do(tmp_path: Path) -> None:
    secret, public = tmp_path / "k.sec", tmp_path / "k.pub"
    sk = os.urandom(32)
    locked = c4gh_key_format.encode_private_key(sk, b"a passphrase", None)  # what crypt4gh-keygen writes
    secret.write_bytes(
        b"-----BEGIN CRYPT4GH PRIVATE KEY-----\n" + base64.b64encode(locked) + b"\n-----END CRYPT4GH PRIVATE KEY-----\n"
    )
    secret.chmod(0o600)
    with pytest.raises(ConfigurationError, match="--nocrypt"):
        load_or_create_archive_keys(secret, public)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a public key"),
        (b"hello, this is not a key\n", "not a public key"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a text file"),
        (b"-----BEGIN CRYPT4GH PUBLIC KEY-----\n!!!not base64!!!\n-----END CRYPT4GH PUBLIC KEY-----\n", "base64"),
        (b"-----BEGIN CRYPT4GH PUBLIC KEY-----\nAAAA\n-----END CRYPT4GH PUBLIC KEY-----\n", "3 bytes, not 32"),
        (
            b"-----BEGIN CRYPT4GH PUBLIC KEY-----\n"
            + base64.b64encode(bytes(32))
            + b"\n-----END CRYPT4GH PUBLIC KEY-----",
            "low-order",
        ),
        (b"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC user@host\n", "only ssh-ed25519"),
        (b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA user@host\n", "not a valid ssh-ed25519"),
        (b"-----BEGIN CRYPT4GH PRIVATE KEY-----\nc2VjcmV0\n-----END CRYPT4GH PRIVATE KEY-----\n", "private key"),
    ],
    ids=["empty", "text", "binary", "bad-base64", "short", "zero-key", "ssh-rsa", "ssh-truncated", "private-key"],
)
def test_read_public_key__garbage_is_an_input_error_naming_file_and_format(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "recipient.pub"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as caught:
        read_public_key(path)
    assert str(path) in str(caught.value)
    if message != "private key":
        assert "BEGIN CRYPT4GH PUBLIC KEY" in str(caught.value) and "ssh-ed25519" in str(caught.value)
    else:
        assert "c2VjcmV0" not in str(caught.value)  # a leaked private key is never echoed


def test_read_public_key__missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_public_key(tmp_path / "nobody.pub")


# --- logs ----------------------------------------------------------------------------------------


@pytest.fixture
def crypt4gh_loggers_restored() -> Iterator[None]:
    saved = {
        name: (logger.level, list(logger.filters))
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and (name == "crypt4gh" or name.startswith("crypt4gh."))
    }
    yield
    for name, (level, filters) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.filters[:] = filters
    pin_crypt4gh_logging()


def secrets_spelled(keys: list[bytes]) -> list[str]:
    return [form for key in keys for form in (key.hex(), key.hex().upper(), base64.b64encode(key).decode())]


def test_logs__no_secret_or_session_key_at_debug(
    tmp_path: Path,
    node_keys: NodeArchiveKeys,
    recipient_keys: NodeArchiveKeys,
    work: Path,
    caplog: pytest.LogCaptureFixture,
    crypt4gh_loggers_restored: None,
) -> None:
    src = tmp_path / "f.txt"
    src.write_bytes(b"some genotypes\n" * 10_000)
    # GIVEN the root logger at DEBUG, and someone lowering crypt4gh's own loggers to DEBUG too
    caplog.set_level(logging.DEBUG)
    for name in ("crypt4gh", "crypt4gh.lib", "crypt4gh.header"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    # WHEN the node archives, shares and decrypts
    archived = archive_file(src, tmp_path / "archive" / "f.c4gh", node_keys)
    shared = share_file(archived.path, tmp_path / "outbox" / "f.c4gh", node_keys, recipient_keys.public)
    decrypt_to(archived.path, work / "f.txt", node_keys)
    with open_decrypted(archived.path, node_keys) as stream:
        stream.read()
    logging.getLogger("genomenode.test").debug("the capture works")
    caplog.set_level(logging.WARNING)
    # THEN no spelling of any secret is in the log: node key, session key, X25519 shared keys
    with archived.path.open("rb") as fh:
        session_keys, _ = c4gh_header.deconstruct(fh, [(0, node_keys.secret, None)])
    shared_keys = [
        sodium.kx_server(node_keys.public, node_keys.secret, node_keys.public),
        sodium.kx_server(node_keys.public, node_keys.secret, recipient_keys.public),
    ]
    forbidden = secrets_spelled([node_keys.secret, *session_keys, *shared_keys])
    log = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "the capture works" in log
    assert not [form for form in forbidden if form in log]
    assert plain_decrypt(shared.path, recipient_keys.secret) == src.read_bytes()


def test_logs__the_leak_check_would_see_crypt4gh_unpinned(
    tmp_path: Path, node_keys: NodeArchiveKeys, caplog: pytest.LogCaptureFixture, crypt4gh_loggers_restored: None
) -> None:
    """The control for the test above: without the pin crypt4gh does log the node's secret key."""
    src = tmp_path / "f.txt"
    src.write_bytes(b"x\n")
    for logger in (logging.getLogger("crypt4gh.header"), logging.getLogger("crypt4gh.lib")):
        logger.filters.clear()
        logger.setLevel(logging.NOTSET)
    logging.getLogger("crypt4gh").setLevel(logging.NOTSET)
    caplog.set_level(logging.DEBUG)

    archive_file(src, tmp_path / "archive" / "f.c4gh", node_keys)

    log = "\n".join(r.getMessage() for r in caplog.records)
    assert node_keys.secret.hex() in log
