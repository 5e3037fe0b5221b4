"""The peers file: JSON or TOML, keys inline or in files, and a clear error for each mistake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from genomenode.access.policy import Level
from genomenode.errors import ConfigurationError
from genomenode.federation.peers import load_peers, make_peer, write_peers_file
from tests.federation.nodes import throwaway_jwks


@pytest.fixture
def jwks() -> dict[str, Any]:
    return throwaway_jwks()[1]


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document))
    return path


def test_peers__json_and_toml_with_keys_inline_or_in_a_file_read_the_same(tmp_path: Path, jwks: dict[str, Any]) -> None:
    (tmp_path / "dk-jwks.json").write_text(json.dumps(jwks))
    from_json = load_peers(
        _write(
            tmp_path / "peers.json",
            {"peers": [{"name": "dk", "base_url": "https://beacon.genome.dk/", "jwks": jwks, "beacon_id": "dk.b"}]},
        )
    )
    toml = tmp_path / "peers.toml"
    toml.write_text(
        '[[peers]]\nname = "dk"\nbase_url = "https://beacon.genome.dk"\njwks = "dk-jwks.json"\nbeacon_id = "dk.b"\n'
    )
    from_toml = load_peers(toml)
    assert from_json == from_toml
    (dk,) = from_json
    assert (dk.base_url, dk.issuer, dk.audience, dk.reach) == (
        "https://beacon.genome.dk",
        "https://beacon.genome.dk",
        "https://beacon.genome.dk",
        Level.REGISTERED,  # the default: counts, small ones hidden, never records
    )
    assert dk.endpoint("g_variants") == "https://beacon.genome.dk/api/federated/g_variants"
    assert dk.jwks["keys"][0]["kid"] == jwks["keys"][0]["kid"]


def test_peers__written_then_read_back_unchanged(tmp_path: Path, jwks: dict[str, Any]) -> None:
    peers = [
        make_peer("dk", "http://127.0.0.1:8101", jwks, beacon_id="dk.b", reach="PUBLIC", timeout_seconds=2.5),
        make_peer("uk", "https://uk.example", jwks),
    ]
    write_peers_file(tmp_path / "peers.json", peers)
    assert load_peers(tmp_path / "peers.json") == tuple(peers)


def _entry(keys: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": "dk", "base_url": "https://dk.example", "jwks": keys, **fields}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"base_url": "http://dk.example"}, "must be an https:// URL"),
        ({"base_url": "https://dk.example/?x=1"}, "no query"),
        ({"base_url": "https://user:pw@dk.example"}, "credentials"),
        ({"name": "Denmark!"}, "lowercase letters"),
        ({"reach": "EVERYTHING"}, "PUBLIC, REGISTERED or CONTROLLED"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"timeout_seconds": True}, "timeout_seconds"),
        ({"colour": "red"}, "unknown field(s) colour"),
        ({"jwks": {"keys": []}}, "no usable public signing key"),
        ({"jwks": "missing.json"}, "cannot read the JWKS file"),
        ({"jwks": 7}, "jwks must be a JWKS object"),
        ({"beacon_id": ""}, "beacon_id must be a non-empty string"),
    ],
)
def test_peers__each_mistake_is_named_with_the_file_and_peer(
    tmp_path: Path, jwks: dict[str, Any], change: dict[str, Any], message: str
) -> None:
    path = _write(tmp_path / "peers.json", {"peers": [_entry(jwks, **change)]})
    with pytest.raises(ConfigurationError, match="peer 0") as caught:
        load_peers(path)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_peers__a_private_key_is_not_accepted_as_a_peers_key(tmp_path: Path) -> None:
    key, _ = throwaway_jwks()
    private = {"keys": [dict(key.as_dict(private=True))]}
    with pytest.raises(ConfigurationError, match="no usable public signing key"):
        load_peers(_write(tmp_path / "peers.json", {"peers": [_entry(private)]}))


@pytest.mark.parametrize(
    "document",
    [[], {"peers": {}}, {"peers": [], "extra": 1}, {"nodes": []}],
    ids=["list", "peers-not-list", "extra-key", "wrong-key"],
)
def test_peers__the_file_must_hold_a_list_of_peers(tmp_path: Path, document: Any) -> None:
    with pytest.raises(ConfigurationError, match="must hold one key, peers"):
        load_peers(_write(tmp_path / "peers.json", document))


@pytest.mark.parametrize("field", ["name", "base_url", "issuer"])
def test_peers__a_peer_listed_twice_is_refused(tmp_path: Path, jwks: dict[str, Any], field: str) -> None:
    first = _entry(jwks, name="dk", base_url="https://dk.example", issuer="https://iss.dk")
    second = _entry(jwks, name="dk2", base_url="https://dk2.example", issuer="https://iss.dk2")
    second[field] = first[field]
    with pytest.raises(ConfigurationError, match=f"two peers have {field}"):
        load_peers(_write(tmp_path / "peers.json", {"peers": [first, second]}))


def test_peers__unreadable_files_say_which_setting_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="GENOMENODE_PEERS_FILE"):
        load_peers(tmp_path / "absent.json")
    (tmp_path / "bad.toml").write_text("[[peers]\n")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_peers(tmp_path / "bad.toml")
