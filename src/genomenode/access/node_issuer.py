"""The node as its own token issuer, for the embedded default (`genomenode token issue --user U`).

The node signs ES256 tokens with a P-256 key whose `kid` is its RFC 7638 thumbprint. The private
JWK lives in one file, created on first use, 0600 in a 0700 folder, never logged; only its public
half leaves (`public_jwks()`, served at /.well-known/jwks.json). Tokens it signs are verified by
the same `verify_token` as any other issuer's: there is no bypass.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from genomenode.errors import ConfigurationError

ALGORITHM = "ES256"
CURVE = "P-256"
#: claims `issue` sets itself; extra claims may not override them
REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti"})


def load_or_create_signing_key(path: Path) -> ECKey:
    """Read the node's private signing key, creating it (0600, in a 0700 folder) on first use."""
    if not path.exists():
        _create(path)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigurationError(
            f"{path}: token signing key is readable by others (mode {oct(mode)}); run chmod 600 {path}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        key = ECKey.import_key(data)
    except (OSError, ValueError, JoseError) as exc:
        raise ConfigurationError(
            f"{path}: not a private EC JWK ({type(exc).__name__}); restore it from the node's backup"
        ) from None
    if not key.is_private or key.curve_name != CURVE:
        raise ConfigurationError(f"{path}: must be a private {CURVE} JWK; restore it from the node's backup")
    key.ensure_kid()
    return key


def _create(path: Path) -> None:
    """Write a new key without ever exposing a partial file: a private temp file, then link."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ECKey.generate_key(CURVE, parameters={"alg": ALGORITHM, "use": "sig"}, auto_kid=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, json.dumps(key.as_dict(private=True)).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileExistsError):  # another process wrote one first: keep theirs
            os.link(tmp, path)  # atomic, and never replaces an existing key
    finally:
        tmp.unlink(missing_ok=True)


class NodeIssuer:
    """Signs the node's own tokens: `issuer` is the node's public URL, `audience` its token audience."""

    def __init__(self, issuer: str, key: ECKey, audience: str) -> None:
        if not key.is_private:
            raise ConfigurationError("the node's issuer needs its private signing key")
        key.ensure_kid()
        self.issuer = issuer
        self.audience = audience
        self._key = key

    @property
    def kid(self) -> str:
        kid = self._key.kid
        assert kid is not None  # ensure_kid() set it
        return kid

    def issue(
        self, subject: str, *, lifetime_s: int, claims: dict[str, Any] | None = None, now: float | None = None
    ) -> str:
        """A signed token for `subject`, valid from now for `lifetime_s` seconds."""
        if not subject:
            raise ValueError("a token needs a subject")
        if lifetime_s <= 0:
            raise ValueError("lifetime_s must be positive")
        extra = dict(claims or {})
        clash = sorted(REGISTERED_CLAIMS & set(extra))
        if clash:
            raise ValueError(f"claims may not set {', '.join(clash)}; issue() sets them")
        issued = int(time.time() if now is None else now)
        payload = {
            **extra,
            "iss": self.issuer,
            "sub": subject,
            "aud": self.audience,
            "iat": issued,
            "nbf": issued,
            "exp": issued + lifetime_s,
            "jti": secrets.token_urlsafe(16),
        }
        return self._sign(payload, typ="JWT")

    def issue_visa(
        self,
        subject: str,
        *,
        type: str,
        value: str,
        source: str,
        by: str | None,
        lifetime_s: int,
        asserted: int | None = None,
        conditions: list[Any] | None = None,
        jku: str | None = None,
        now: float | None = None,
    ) -> str:
        """A GA4GH visa signed by the node (demos and tests; it is honoured only where the node
        is configured as a trusted visa issuer)."""
        if lifetime_s <= 0:
            raise ValueError("lifetime_s must be positive")
        issued = int(time.time() if now is None else now)
        assertion: dict[str, Any] = {
            "type": type,
            "value": value,
            "source": source,
            "asserted": issued if asserted is None else asserted,
        }
        if by is not None:
            assertion["by"] = by
        if conditions is not None:
            assertion["conditions"] = conditions
        payload = {
            "iss": self.issuer,
            "sub": subject,
            "iat": issued,
            "exp": issued + lifetime_s,
            "jti": secrets.token_urlsafe(16),
            "ga4gh_visa_v1": assertion,
        }
        return self._sign(payload, typ="vnd.ga4gh.visa+jwt", jku=jku)

    def public_jwks(self) -> dict[str, Any]:
        """The node's JWKS: public members only."""
        public = dict(self._key.as_dict(private=False))
        public.update({"kid": self.kid, "alg": ALGORITHM, "use": "sig"})
        return {"keys": [public]}

    def keyset(self) -> KeySet:
        """The public key as a KeySet, for `KeyStore(..., local={issuer: keyset})`."""
        return KeySet([ECKey.import_key(self.public_jwks()["keys"][0])])

    def _sign(self, payload: dict[str, Any], *, typ: str, jku: str | None = None) -> str:
        header: dict[str, Any] = {"alg": ALGORITHM, "kid": self.kid, "typ": typ}
        if jku is not None:
            header["jku"] = jku
        return jwt.encode(header, payload, self._key, algorithms=[ALGORITHM])
