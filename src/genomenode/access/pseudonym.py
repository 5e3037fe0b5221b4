"""Subject pseudonyms: keyed HMAC-SHA256 under the node's secret key.

Swedish personnummer and Danish CPR numbers are trivially enumerable, so an unkeyed hash of one is
reversible by brute force; a keyed HMAC is not without the key. The key is created at first use in
a file only the node's user can read, outside the database and the store, and is never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import unicodedata
from pathlib import Path

from genomenode.errors import ConfigurationError

KEY_BYTES = 32
_PURPOSE = b"genomenode/subject-pseudonym/v1"


def load_or_create_key(path: Path) -> bytes:
    """Read the node's pseudonymisation key, creating it (0600, in a 0700 folder) on first use."""
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ConfigurationError(
                f"{path}: pseudonymisation key is readable by others (mode {oct(mode)}); run chmod 600 {path}"
            )
        key = bytes.fromhex(path.read_text().strip())
        if len(key) != KEY_BYTES:
            raise ConfigurationError(f"{path}: not a {KEY_BYTES}-byte hex key; restore it from the node's backup")
        return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key.hex().encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def normalise_identifier(raw: str) -> str:
    """One spelling per person: NFC, no surrounding space, no inner separators, upper case."""
    text = unicodedata.normalize("NFC", raw).strip().upper()
    return "".join(ch for ch in text if ch not in " -+")


def pseudonymise(key: bytes, raw_identifier: str, *, context: str = "node") -> str:
    """A stable pseudonym for `raw_identifier`; another `context` (research project) gives another."""
    message = _PURPOSE + b"\x00" + context.encode() + b"\x00" + normalise_identifier(raw_identifier).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
