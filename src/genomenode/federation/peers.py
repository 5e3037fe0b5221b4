"""The nodes this node federates with, read from `GENOMENODE_PEERS_FILE` (JSON or TOML).

JSON:

    {"peers": [
      {"name": "dk", "base_url": "https://beacon.genome.dk", "beacon_id": "dk.genome.beacon",
       "jwks": "dk-jwks.json", "reach": "REGISTERED"}
    ]}

TOML (a file ending in `.toml`):

    [[peers]]
    name = "dk"
    base_url = "https://beacon.genome.dk"
    jwks = "dk-jwks.json"

Fields of each peer:

- `name` (required): a short name, as federated answers show the node (`dk`).
- `base_url` (required): the peer's `GENOMENODE_PUBLIC_URL`; https, or http on loopback only.
  Federated queries go to `<base_url>/api/federated/<entry>`.
- `jwks` (required): the peer's public keys, as its `/.well-known/jwks.json` serves them: a JWKS
  object inline, or the path of a JWKS file (relative to the peers file). Keys are read here,
  once, and never fetched: a node whose keys are not in this file is not a peer.
- `beacon_id`: the Beacon id the peer answers as; when given, an answer under another id is
  reported `invalid`.
- `reach`: the most this node lets the peer see, `PUBLIC`, `REGISTERED` (default) or
  `CONTROLLED`. Per request it is further capped by what the peer vouches for its own caller,
  which is never more than REGISTERED (access.policy.peer_reach), so `CONTROLLED` acts as
  REGISTERED; and a peer never gets records, only counts (policy.max_beacon_granularity).
- `issuer`: the `iss` of the peer's tokens; default `base_url`.
- `audience`: the `aud` this node puts in the tokens it sends the peer; default `base_url`.
- `timeout_seconds`: this peer's own timeout instead of `GENOMENODE_FEDERATION_TIMEOUT_SECONDS`.

Every problem is a ConfigurationError naming the file, the peer and the field.
"""

from __future__ import annotations

import json
import re
import tomllib
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet

from genomenode.access.identity import public_signing_keys
from genomenode.access.policy import Level
from genomenode.errors import ConfigurationError

_FIELDS = frozenset({"name", "base_url", "jwks", "beacon_id", "reach", "issuer", "audience", "timeout_seconds"})
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}")
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class Peer:
    """One peer node, validated. `keys` holds its public signing keys only."""

    name: str
    base_url: str
    keys: KeySet = field(compare=False, repr=False)
    beacon_id: str | None = None
    reach: Level = Level.REGISTERED
    issuer: str = ""  # "" → base_url
    audience: str = ""  # "" → base_url
    timeout_seconds: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        object.__setattr__(self, "issuer", self.issuer or self.base_url)
        object.__setattr__(self, "audience", self.audience or self.base_url)

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(key.as_dict(private=False)) for key in self.keys]}

    def endpoint(self, entry: str) -> str:
        return f"{self.base_url}/api/federated/{entry}"


def load_peers(path: Path) -> tuple[Peer, ...]:
    """The peers listed in `path` (JSON, or TOML when it ends in .toml), checked."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: peers file not found; fix GENOMENODE_PEERS_FILE") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path}: cannot read the peers file ({exc})") from None
    try:
        data: Any = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        raise ConfigurationError(f"{path}: not valid {kind} ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("peers"), list) or set(data) - {"peers"}:
        raise ConfigurationError(
            f'{path}: must hold one key, peers: a list of peers ({{"peers": [{{"name": ..., "base_url": ..., '
            '"jwks": ...}]}, or [[peers]] tables in TOML)'
        )
    peers = tuple(_peer(entry, where=f"{path}: peer {i}", folder=path.parent) for i, entry in enumerate(data["peers"]))
    for attribute in ("name", "base_url", "issuer"):
        seen: set[str] = set()
        for peer in peers:
            value = getattr(peer, attribute)
            if value in seen:
                raise ConfigurationError(f"{path}: two peers have {attribute} {value!r}; each peer is listed once")
            seen.add(value)
    return peers


def peer_entry(peer: Peer) -> dict[str, Any]:
    """The peers-file entry for `peer` (keys inline), as `load_peers` reads it back."""
    entry: dict[str, Any] = {"name": peer.name, "base_url": peer.base_url, "jwks": peer.jwks}
    if peer.beacon_id is not None:
        entry["beacon_id"] = peer.beacon_id
    entry["reach"] = peer.reach.name
    if peer.issuer != peer.base_url:
        entry["issuer"] = peer.issuer
    if peer.audience != peer.base_url:
        entry["audience"] = peer.audience
    if peer.timeout_seconds is not None:
        entry["timeout_seconds"] = peer.timeout_seconds
    return entry


def write_peers_file(path: Path, peers: Sequence[Peer]) -> None:
    path.write_text(json.dumps({"peers": [peer_entry(p) for p in peers]}, indent=2) + "\n", encoding="utf-8")


def make_peer(
    name: str,
    base_url: str,
    jwks: Mapping[str, Any],
    *,
    beacon_id: str | None = None,
    reach: str = "REGISTERED",
    timeout_seconds: float | None = None,
) -> Peer:
    """A peer from values in code (the demo, tests), checked as the file's entries are."""
    entry: dict[str, Any] = {"name": name, "base_url": base_url, "jwks": dict(jwks), "reach": reach}
    if beacon_id is not None:
        entry["beacon_id"] = beacon_id
    if timeout_seconds is not None:
        entry["timeout_seconds"] = timeout_seconds
    return _peer(entry, where=f"peer {name!r}", folder=Path.cwd())


# -- checks -------------------------------------------------------------------------------------
def _peer(entry: Any, *, where: str, folder: Path) -> Peer:
    if not isinstance(entry, dict):
        raise ConfigurationError(f"{where}: must be an object with name, base_url and jwks")
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        allowed = ", ".join(sorted(_FIELDS))
        raise ConfigurationError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {allowed}")
    for required in ("name", "base_url", "jwks"):
        if required not in entry:
            raise ConfigurationError(f"{where}: '{required}' is missing")
    name = entry["name"]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigurationError(
            f"{where}: name {name!r} must be 1-40 lowercase letters, digits, '.', '_' or '-' (e.g. dk)"
        )
    where = f"{where} ({name})"
    base_url = _url(entry["base_url"], "base_url", where)
    beacon_id = _optional_text(entry.get("beacon_id"), "beacon_id", where)
    issuer = _optional_text(entry.get("issuer"), "issuer", where)
    audience = _optional_text(entry.get("audience"), "audience", where)
    reach = entry.get("reach", "REGISTERED")
    if not isinstance(reach, str) or reach.upper() not in Level.__members__:
        raise ConfigurationError(f"{where}: reach {reach!r} must be PUBLIC, REGISTERED or CONTROLLED")
    timeout = entry.get("timeout_seconds")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= MAX_TIMEOUT_SECONDS
    ):
        raise ConfigurationError(f"{where}: timeout_seconds must be a number of seconds in (0, {MAX_TIMEOUT_SECONDS}]")
    return Peer(
        name=name,
        base_url=base_url,
        keys=_keys(entry["jwks"], where, folder),
        beacon_id=beacon_id,
        reach=Level[reach.upper()],
        issuer=issuer.rstrip("/") if issuer else "",
        audience=audience.rstrip("/") if audience else "",
        timeout_seconds=float(timeout) if timeout is not None else None,
    )


def _url(value: Any, name: str, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}: {name} must be a URL string")
    try:
        parts = urllib.parse.urlsplit(value)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  # raises ValueError on a bad port
    except ValueError:
        raise ConfigurationError(f"{where}: {name} {value!r} is not a URL") from None
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigurationError(f"{where}: {name} {value!r} must have no query, fragment or credentials")
    if not host or not (parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK_HOSTS)):
        raise ConfigurationError(
            f"{where}: {name} {value!r} must be an https:// URL (http:// only on 127.0.0.1 or localhost, for demos)"
        )
    return value.rstrip("/")


def _optional_text(value: Any, name: str, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{where}: {name} must be a non-empty string")
    return value.strip()


def _keys(value: Any, where: str, folder: Path) -> KeySet:
    source = "jwks"
    if isinstance(value, str):
        path = Path(value) if Path(value).is_absolute() else folder / value
        source = str(path)
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigurationError(f"{where}: cannot read the JWKS file {path} ({exc})") from None
    if not isinstance(value, dict):
        raise ConfigurationError(f'{where}: jwks must be a JWKS object {{"keys": [...]}} or the path of a JWKS file')
    keys = public_signing_keys(value, where=f"{where}: {source}")
    if keys is None:
        raise ConfigurationError(
            f"{where}: {source} holds no usable public signing key; copy the peer's /.well-known/jwks.json"
        )
    return keys
