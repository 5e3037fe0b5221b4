"""Who is calling: bearer tokens (JWT) checked against the keys of the issuers this node trusts.

A token is accepted only when all of these hold (RFC 8725, the JWT best current practices):

- it is a JWS in compact form whose `alg` is one of RS256, ES256, PS256 or EdDSA. `none`, every
  HMAC algorithm (so an HS256 token "signed" with an issuer's public key as the secret) and
  anything else are refused before a key is looked at;
- its `iss` names a trusted issuer. The unverified `iss` is read only to choose whose keys to
  use, and an untrusted one is refused before any key is fetched;
- its signature verifies with that issuer's key named by `kid` (a token without `kid` is
  accepted only when the issuer has exactly one key for the algorithm);
- `exp` is present and not past, `nbf` and `iat` are not in the future (all with `leeway`);
- `aud` (a string or a list) contains the node's audience, or the issuer's own if configured;
- `sub` is a non-empty string.

Keys come from a local JWKS file, the node's own key, or the issuer's `jwks_uri` (https, or http
on loopback only), fetched with a 5 s timeout, cached for `ttl` seconds and fetched again at most
once per 30 s when a token names a `kid` the cache does not hold (key rotation). No URL other
than a configured `jwks_uri` is ever fetched, and redirects are not followed.

Messages name the reason, never the token.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, Key, KeySet, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

from genomenode.errors import AuthenticationError, ConfigurationError

logger = logging.getLogger(__name__)

IssuerKind = Literal["oidc", "visa", "both"]
ISSUER_KINDS: tuple[IssuerKind, ...] = ("oidc", "visa", "both")

#: algorithms accepted on bearer tokens; visas narrow this to RS256/ES256 (GA4GH AAI profile)
TOKEN_ALGORITHMS = frozenset({"RS256", "ES256", "PS256", "EdDSA"})
#: the key type each accepted algorithm needs
_KEY_TYPE = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC", "EdDSA": "OKP"}

#: a bearer token or passport larger than this is refused unread (200 visas of 16 KiB fit)
MAX_TOKEN_BYTES = 4 << 20
#: a JWKS document larger than this is refused
MAX_JWKS_BYTES = 1 << 20
MIN_RSA_BITS = 2048

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_ISSUER_FIELDS = frozenset({"issuer", "jwks_uri", "jwks_file", "audience", "kind", "subject_issuers"})


@dataclass(frozen=True)
class TrustedIssuer:
    """One outside issuer of tokens and/or visas, and where its public keys are.

    `audience` None means tokens from it must name the node's own audience. `subject_issuers`
    lists the token issuers whose subject ids this (visa) issuer uses, so its visas may be bound
    to their callers (see passport.py); by default only callers of this same issuer.
    """

    issuer: str
    jwks_uri: str | None = None
    jwks_file: Path | None = None
    audience: str | None = None
    kind: IssuerKind = "both"
    subject_issuers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.issuer, str) or not self.issuer.strip():
            raise ConfigurationError("a trusted issuer needs a non-empty 'issuer'")
        if self.jwks_uri is not None and self.jwks_file is not None:
            raise ConfigurationError(f"issuer {self.issuer}: give 'jwks_uri' or 'jwks_file', not both")
        if self.jwks_uri is not None:
            check_jwks_uri(self.jwks_uri)
        if self.kind not in ISSUER_KINDS:
            raise ConfigurationError(f"issuer {self.issuer}: kind must be one of {', '.join(ISSUER_KINDS)}")
        if self.audience is not None and (not isinstance(self.audience, str) or not self.audience):
            raise ConfigurationError(f"issuer {self.issuer}: 'audience' must be a non-empty string or absent")
        if not isinstance(self.subject_issuers, tuple) or not all(isinstance(s, str) for s in self.subject_issuers):
            raise ConfigurationError(
                f"issuer {self.issuer}: 'subject_issuers' must be issuer URLs (a list in the file, a tuple in code)"
            )

    @property
    def issues_tokens(self) -> bool:
        return self.kind in ("oidc", "both")

    @property
    def issues_visas(self) -> bool:
        return self.kind in ("visa", "both")


def check_jwks_uri(uri: str) -> None:
    """Refuse a JWKS URL that is not https (plain http is allowed on loopback only)."""
    try:
        parts = urllib.parse.urlsplit(uri)
        host = (parts.hostname or "").lower()
    except (ValueError, AttributeError):
        parts, host = None, ""
    if parts is not None and parts.scheme == "https" and host:
        return
    if parts is not None and parts.scheme == "http" and host in _LOOPBACK_HOSTS:
        return
    raise ConfigurationError(
        f"jwks_uri {uri!r} must be an https:// URL (http:// only on 127.0.0.1 or localhost, for tests)"
    )


def load_trusted_issuers(path: Path) -> list[TrustedIssuer]:
    """Read the trusted-issuers file: a JSON list of objects with the fields of TrustedIssuer.

    A relative `jwks_file` is taken relative to the file's own folder.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(
            f"{path}: trusted issuers file not found; fix GENOMENODE_TRUSTED_ISSUERS_FILE"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigurationError(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(data, list):
        raise ConfigurationError(f'{path}: must hold a JSON list of issuers, e.g. [{{"issuer": ..., "jwks_uri": ...}}]')
    out: list[TrustedIssuer] = []
    seen: set[str] = set()
    for index, entry in enumerate(data):
        where = f"{path}: entry {index}"
        if not isinstance(entry, dict):
            raise ConfigurationError(f"{where}: must be a JSON object")
        unknown = sorted(set(entry) - _ISSUER_FIELDS)
        if unknown:
            raise ConfigurationError(
                f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_ISSUER_FIELDS))}"
            )
        for name in ("issuer", "jwks_uri", "jwks_file", "audience", "kind"):
            if name in entry and entry[name] is not None and not isinstance(entry[name], str):
                raise ConfigurationError(f"{where}: '{name}' must be a string")
        if not entry.get("jwks_uri") and not entry.get("jwks_file"):
            raise ConfigurationError(f"{where}: give 'jwks_uri' (https) or 'jwks_file' for the issuer's public keys")
        subject_issuers = entry.get("subject_issuers", [])
        if not isinstance(subject_issuers, list):
            raise ConfigurationError(f"{where}: 'subject_issuers' must be a list of issuer URLs")
        jwks_file = Path(entry["jwks_file"]) if entry.get("jwks_file") else None
        if jwks_file is not None and not jwks_file.is_absolute():
            jwks_file = path.parent / jwks_file
        try:
            issuer = TrustedIssuer(
                issuer=entry.get("issuer", ""),
                jwks_uri=entry.get("jwks_uri"),
                jwks_file=jwks_file,
                audience=entry.get("audience"),
                kind=entry.get("kind", "both"),
                subject_issuers=tuple(subject_issuers),
            )
        except ConfigurationError as exc:
            raise ConfigurationError(f"{where}: {exc}") from None
        if issuer.issuer in seen:
            raise ConfigurationError(f"{where}: issuer {issuer.issuer} is listed twice")
        seen.add(issuer.issuer)
        out.append(issuer)
    return out


# -- keys ---------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A JWKS must be served at its configured URL; a redirect would fetch an unconfigured one."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class _Source:
    """Where one issuer's keys come from, and what was last read there."""

    config: TrustedIssuer
    keys: KeySet | None = None
    local: bool = False
    loaded_at: float = -math.inf
    attempted_at: float = -math.inf
    lock: threading.Lock = field(default_factory=threading.Lock)


class KeyStore:
    """The public keys of every trusted issuer, by issuer URL.

    `local` adds key sets held in memory, such as the node's own (`{public_url: keyset}`); a
    local issuer not also listed in `issuers` is trusted for tokens only. Keys from a URL or file
    are kept for `ttl` seconds; an unknown `kid` makes the store read them again at most once
    per `refetch_interval` seconds. `clock` (monotonic seconds) is for tests.
    """

    def __init__(
        self,
        issuers: Iterable[TrustedIssuer],
        *,
        local: Mapping[str, KeySet] | None = None,
        ttl: float = 300.0,
        refetch_interval: float = 30.0,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.refetch_interval = refetch_interval
        self.timeout = timeout
        self._clock = clock
        self._sources: dict[str, _Source] = {}
        local = dict(local or {})
        for issuer in issuers:
            if issuer.issuer in self._sources:
                raise ConfigurationError(f"issuer {issuer.issuer} is configured twice")
            source = _Source(issuer)
            if issuer.issuer in local:
                source.keys, source.local = _public_only(local.pop(issuer.issuer)), True
            elif issuer.jwks_uri is None and issuer.jwks_file is None:
                raise ConfigurationError(f"issuer {issuer.issuer}: give 'jwks_uri' or 'jwks_file' for its keys")
            self._sources[issuer.issuer] = source
        for url, keyset in local.items():
            self._sources[url] = _Source(TrustedIssuer(url, kind="oidc"), keys=_public_only(keyset), local=True)

    def trusted(self, issuer: str) -> TrustedIssuer | None:
        """The configuration of `issuer`, or None when this node does not trust it."""
        source = self._sources.get(issuer)
        return source.config if source else None

    def key_for(self, issuer: str, kid: str | None, alg: str, *, jku: str | None = None) -> Key:
        """The key of `issuer` named `kid` that can verify `alg`; AuthenticationError if none.

        `jku`, when given, must be the issuer's configured `jwks_uri`: it is checked before
        anything is fetched, and keys are never read from any other URL.
        """
        source = self._sources.get(issuer)
        if source is None:
            raise AuthenticationError(f"issuer {_shown(issuer)} is not trusted by this node")
        if jku is not None and (source.config.jwks_uri is None or jku != source.config.jwks_uri):
            raise AuthenticationError(f"jku is not the key URL configured for issuer {_shown(issuer)}")
        if source.local:
            assert source.keys is not None
            return _pick(source.keys, kid, alg, issuer)
        with source.lock:
            now = self._clock()
            if source.keys is None or now - source.loaded_at >= self.ttl:
                self._load(source, now)
            assert source.keys is not None
            try:
                return _pick(source.keys, kid, alg, issuer)
            except AuthenticationError:
                if kid is None or now - source.attempted_at < self.refetch_interval:
                    raise
            self._load(source, now)  # a kid we have not seen: the issuer may have rotated its keys
            assert source.keys is not None
            return _pick(source.keys, kid, alg, issuer)

    def _load(self, source: _Source, now: float) -> None:
        """Read the issuer's keys again; after a failure, fail fast until `refetch_interval` passes."""
        config = source.config
        if source.keys is None and now - source.attempted_at < self.refetch_interval:
            raise AuthenticationError(f"the keys of issuer {config.issuer} are unavailable; try again shortly")
        source.attempted_at = now
        try:
            if config.jwks_file is not None:
                source.keys = _read_jwks_file(config.jwks_file)
            else:
                assert config.jwks_uri is not None
                source.keys = _fetch_jwks(config.jwks_uri, issuer=config.issuer, timeout=self.timeout)
        except (AuthenticationError, ConfigurationError):
            source.keys, source.loaded_at = None, -math.inf  # no stale keys: a key may have been revoked
            raise
        source.loaded_at = now


def _public_only(keyset: KeySet) -> KeySet:
    return KeySet([JWKRegistry.import_key(dict(key.as_dict(private=False))) for key in keyset])


def _pick(keys: KeySet, kid: str | None, alg: str, issuer: str) -> Key:
    usable = [
        k for k in keys if k.key_type == _KEY_TYPE.get(alg) and k.get("use") in (None, "sig") and k.alg in (None, alg)
    ]
    if kid is None:
        if len(usable) == 1:
            return usable[0]
        raise AuthenticationError(f"token has no kid and issuer {_shown(issuer)} has {len(usable)} {alg} keys")
    for key in usable:
        if key.kid == kid:
            return key
    raise AuthenticationError(f"issuer {_shown(issuer)} has no {alg} key with kid {_shown(kid)}")


def _read_jwks_file(path: Path) -> KeySet:
    try:
        data = json.loads(path.read_bytes()[: MAX_JWKS_BYTES + 1])
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"{path}: cannot read the JWKS ({exc}); check jwks_file in the trusted issuers file"
        ) from None
    keys = _parse_jwks(data, where=str(path))
    if keys is None:
        raise ConfigurationError(f"{path}: no usable public signing key (RSA ≥ {MIN_RSA_BITS} bits, EC or OKP)")
    return keys


def _fetch_jwks(uri: str, *, issuer: str, timeout: float) -> KeySet:
    check_jwks_uri(uri)  # TrustedIssuer checked it already; a second look costs nothing
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
    if (urllib.parse.urlsplit(uri).hostname or "").lower() in _LOOPBACK_HOSTS:
        handlers.append(urllib.request.ProxyHandler({}))  # never send loopback traffic to a proxy
    opener = urllib.request.build_opener(*handlers)
    # S310: the scheme was checked just above (https, or http on loopback only)
    request = urllib.request.Request(uri, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(MAX_JWKS_BYTES + 1)
        if len(body) > MAX_JWKS_BYTES:
            raise ValueError(f"larger than {MAX_JWKS_BYTES} bytes")
        data = json.loads(body)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        if isinstance(exc, urllib.error.HTTPError):
            exc.close()  # an error response holds the connection open until closed
        logger.warning("could not fetch the JWKS of issuer %s from %s: %s", issuer, uri, type(exc).__name__)
        raise AuthenticationError(f"the keys of issuer {issuer} could not be fetched; try again shortly") from None
    keys = _parse_jwks(data, where=uri)
    if keys is None:
        raise AuthenticationError(f"issuer {issuer} publishes no usable signing key")
    return keys


def public_signing_keys(data: object, *, where: str) -> KeySet | None:
    """The public signing keys of a JWKS document, checked as a `jwks_file` is (private,
    symmetric, weak and undecodable keys skipped); None when none is usable. `where` names the
    document in log messages."""
    return _parse_jwks(data, where=where)


def _parse_jwks(data: object, *, where: str) -> KeySet | None:
    """The public signing keys of a JWKS; private, symmetric, weak and undecodable keys are skipped."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        return None
    keys: list[Key] = []
    for entry in data["keys"]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        if _PRIVATE_JWK_MEMBERS & set(entry):
            logger.warning("%s: skipped a key with private or symmetric material; publish public keys only", where)
            continue
        try:
            key = JWKRegistry.import_key(entry)
        except (JoseError, ValueError, TypeError):
            continue
        if isinstance(key, RSAKey) and key.public_key.key_size < MIN_RSA_BITS:
            continue
        if isinstance(key, (RSAKey, ECKey, OKPKey)):
            keys.append(key)
    return KeySet(keys) if keys else None


# -- tokens -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedToken:
    issuer: str
    subject: str
    audience: tuple[str, ...]
    expires_at: int
    issued_at: int | None
    claims: dict[str, Any]


@dataclass(frozen=True)
class ParsedJws:
    """A compact JWS taken apart, nothing verified yet."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def parse_jws(token: str, *, what: str = "token", max_bytes: int = MAX_TOKEN_BYTES) -> ParsedJws:
    """Split and decode a compact JWS; AuthenticationError if it is not one."""
    if not isinstance(token, str) or not token:
        raise AuthenticationError(f"{what} is empty")
    if len(token) > max_bytes:
        raise AuthenticationError(f"{what} is larger than {max_bytes} bytes")
    parts = token.split(".")
    if len(parts) != 3 or not all(p and _B64URL.fullmatch(p) for p in parts):
        raise AuthenticationError(f"{what} is not a signed JWT (header.payload.signature)")
    try:
        header = _json_object(_b64decode(parts[0]))
        claims = _json_object(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
    except ValueError:
        raise AuthenticationError(f"{what} is malformed (bad base64url or JSON)") from None
    return ParsedJws(header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def check_algorithm(parsed: ParsedJws, allowed: frozenset[str], *, what: str = "token") -> str:
    """The header's `alg` if it is one of `allowed`; refuses `none`, HMAC and unknown headers."""
    alg = parsed.header.get("alg")
    if not isinstance(alg, str) or alg not in allowed:
        shown = alg if isinstance(alg, str) and len(alg) < 20 else "?"
        raise AuthenticationError(f"{what} algorithm {shown!r} is refused; accepted: {', '.join(sorted(allowed))}")
    if "crit" in parsed.header or "b64" in parsed.header:
        raise AuthenticationError(f"{what} header has critical extensions this node does not support")
    kid = parsed.header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise AuthenticationError(f"{what} header kid must be a string")
    return alg


def check_signature(parsed: ParsedJws, key: Key, alg: str, *, what: str = "token") -> None:
    model = JWSRegistry.algorithms[alg]  # looked up directly: `alg` is already on our allow-list
    try:
        model.check_key(key)
        ok = model.verify(parsed.signing_input, parsed.signature, key)
    except (JoseError, ValueError, TypeError):
        ok = False
    if not ok:
        raise AuthenticationError(f"{what} signature does not verify")


def check_times(
    claims: Mapping[str, Any], *, now: float, leeway: int, what: str = "token", require_iat: bool = False
) -> tuple[int, int | None]:
    """(exp, iat) after checking that `exp` is present and not past and `nbf`/`iat` are not ahead."""
    exp = _numeric_date(claims, "exp", what)
    if exp is None:
        raise AuthenticationError(f"{what} has no exp (expiry) claim")
    if now > exp + leeway:
        raise AuthenticationError(f"{what} expired; get a new one")
    nbf = _numeric_date(claims, "nbf", what)
    if nbf is not None and nbf > now + leeway:
        raise AuthenticationError(f"{what} is not valid yet (nbf in the future)")
    iat = _numeric_date(claims, "iat", what)
    if iat is None and require_iat:
        raise AuthenticationError(f"{what} has no iat claim")
    if iat is not None and iat > now + leeway:
        raise AuthenticationError(f"{what} was issued in the future (iat); check the issuer's clock")
    return exp, iat


def verify_token(
    token: str, *, keys: KeyStore, audience: str, now: float | None = None, leeway: int = 30
) -> VerifiedToken:
    """The caller's verified identity; AuthenticationError with a short reason otherwise."""
    now = time.time() if now is None else now
    parsed = parse_jws(token)
    alg = check_algorithm(parsed, TOKEN_ALGORITHMS)
    claims = parsed.claims
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise AuthenticationError("token has no iss (issuer) claim")
    trusted = keys.trusted(issuer)  # decided from the unverified iss, only to choose whose keys
    if trusted is None:
        raise AuthenticationError(f"token issuer {_shown(issuer)} is not trusted by this node")
    if not trusted.issues_tokens:
        raise AuthenticationError(f"issuer {_shown(issuer)} is trusted for visas only, not bearer tokens")
    key = keys.key_for(issuer, parsed.header.get("kid"), alg)
    check_signature(parsed, key, alg)
    exp, iat = check_times(claims, now=now, leeway=leeway)
    expected = trusted.audience or audience
    aud = claims.get("aud")
    auds = (aud,) if isinstance(aud, str) else tuple(aud) if isinstance(aud, list) else None
    if auds is None or not all(isinstance(a, str) for a in auds):
        raise AuthenticationError(f"token has no aud (audience) claim; it must name {expected!r}")
    if expected not in auds:
        raise AuthenticationError(f"token audience does not include {expected!r}; request a token for this node")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise AuthenticationError("token has no sub (subject) claim")
    if "ga4gh_visa_v1" in claims:
        raise AuthenticationError("a GA4GH visa is not a bearer token; send it inside a passport")
    return VerifiedToken(
        issuer=issuer, subject=subject, audience=auds, expires_at=exp, issued_at=iat, claims=dict(claims)
    )


# -- helpers ------------------------------------------------------------------------------------


def _b64decode(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("bad base64url") from exc


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate member")  # RFC 7515 §5.2: refuse rather than guess which one
    return out


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _json_object(raw: bytes) -> dict[str, Any]:
    value = json.loads(raw, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _numeric_date(claims: Mapping[str, Any], name: str, what: str) -> int | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AuthenticationError(f"{what} claim {name} must be a number of seconds since 1970")
    return int(value)


def _shown(text: str) -> str:
    """An untrusted string as it may appear in a message: quoted, short."""
    return repr(text if len(text) <= 80 else text[:77] + "...")
