"""Bearer tokens: only a trusted issuer's correctly signed, current token for this node is accepted.

Keys come from a real JWKS served over loopback HTTP (a thread running http.server) or from a
file; the tests count the requests the server sees to hold the "no fetch" promises.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import ECKey, Key, KeySet, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

from genomenode.access.identity import KeyStore, TrustedIssuer, load_trusted_issuers, verify_token
from genomenode.errors import AuthenticationError, ConfigurationError

NOW = 1_750_000_000
ISSUER = "https://login.example.org/oidc/"
AUDIENCE = "genomenode"


# -- a real JWKS server on loopback -------------------------------------------------------------


class _JwksHandler(BaseHTTPRequestHandler):
    server: JwksServer

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        if self.path in self.server.redirects:
            self.send_response(302)
            self.send_header("Location", self.server.url(self.server.redirects[self.path]))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        document = self.server.documents.get(self.path)
        body = json.dumps(document).encode() if document is not None else b"{}"
        self.send_response(200 if document is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


class JwksServer(ThreadingHTTPServer):
    """Serves JSON documents by path on 127.0.0.1 and records every request path it receives."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _JwksHandler)
        self.documents: dict[str, Any] = {}
        self.redirects: dict[str, str] = {}
        self.hits: list[str] = []
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def __enter__(self) -> JwksServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join()


def jwks(*keys: Key) -> dict[str, Any]:
    return {"keys": [dict(k.as_dict(private=False)) for k in keys]}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims: dict[str, Any], key: Key, *, alg: str = "RS256", **header: Any) -> str:
    """A compact JWS signed with `key`, built by hand so any header (even a hostile one) can be made.

    The algorithm object is used directly (not through joserfc's registry) so EdDSA signs
    without joserfc's deprecation warning, which the test settings turn into an error.
    """
    head = {"alg": alg, "typ": "JWT", **({"kid": key.kid} if key.kid else {}), **header}
    head = {k: v for k, v in head.items() if v is not None}
    signing_input = f"{b64url(json.dumps(head).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = JWSRegistry.algorithms[alg].sign(signing_input.encode(), key)
    return f"{signing_input}.{b64url(signature)}"


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}.{b64url(signature)}"


def claims(**overrides: Any) -> dict[str, Any]:
    base = {"iss": ISSUER, "sub": "alice", "aud": AUDIENCE, "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 600}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def write_jwks(path: Path, *keys: Key) -> Path:
    path.write_text(json.dumps(jwks(*keys)))
    return path


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})


@pytest.fixture(scope="module")
def ec_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "ec-1"})


@pytest.fixture
def server() -> Iterator[JwksServer]:
    with JwksServer() as s:
        yield s


@pytest.fixture
def file_keys(tmp_path: Path, rsa_key: RSAKey, ec_key: ECKey) -> KeyStore:
    path = write_jwks(tmp_path / "idp.jwks.json", rsa_key, ec_key)
    return KeyStore([TrustedIssuer(ISSUER, jwks_file=path, kind="oidc")])


def verify(token: str, keys: KeyStore, **kwargs: Any) -> Any:
    return verify_token(token, keys=keys, audience=AUDIENCE, now=kwargs.pop("now", NOW), **kwargs)


# -- accepted -----------------------------------------------------------------------------------


def test_verify_token__accepts_a_valid_token_with_keys_from_a_file(file_keys: KeyStore, rsa_key: RSAKey) -> None:
    verified = verify(sign(claims(email="a@example.org"), rsa_key), file_keys)
    assert verified.issuer == ISSUER and verified.subject == "alice"
    assert verified.audience == (AUDIENCE,) and verified.expires_at == NOW + 600 and verified.issued_at == NOW - 10
    assert verified.claims["email"] == "a@example.org"


def test_verify_token__accepts_keys_fetched_from_a_loopback_jwks_uri_and_caches_them(
    server: JwksServer, rsa_key: RSAKey
) -> None:
    server.documents["/jwks.json"] = jwks(rsa_key)
    keys = KeyStore([TrustedIssuer(ISSUER, jwks_uri=server.url("/jwks.json"))])
    for _ in range(3):
        assert verify(sign(claims(), rsa_key), keys).subject == "alice"
    assert server.hits == ["/jwks.json"]


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA"])
def test_verify_token__accepts_each_allowed_algorithm(tmp_path: Path, rsa_key: RSAKey, ec_key: ECKey, alg: str) -> None:
    key: Key = {"RS256": rsa_key, "PS256": rsa_key, "ES256": ec_key}.get(alg) or OKPKey.generate_key(
        "Ed25519", parameters={"kid": "ed-1"}
    )
    keys = KeyStore([TrustedIssuer(ISSUER, jwks_file=write_jwks(tmp_path / "k.json", key))])
    assert verify(sign(claims(), key, alg=alg), keys).subject == "alice"


def test_verify_token__accepts_a_list_audience_that_names_the_node(file_keys: KeyStore, rsa_key: RSAKey) -> None:
    verified = verify(sign(claims(aud=["portal", AUDIENCE]), rsa_key), file_keys)
    assert verified.audience == ("portal", AUDIENCE)


def test_verify_token__issuers_own_audience_replaces_the_nodes(tmp_path: Path, rsa_key: RSAKey) -> None:
    path = write_jwks(tmp_path / "k.json", rsa_key)
    keys = KeyStore([TrustedIssuer(ISSUER, jwks_file=path, audience="client-123")])
    assert verify(sign(claims(aud="client-123"), rsa_key), keys).subject == "alice"
    with pytest.raises(AuthenticationError, match="audience"):
        verify(sign(claims(aud=AUDIENCE), rsa_key), keys)


def test_verify_token__accepts_within_leeway(file_keys: KeyStore, rsa_key: RSAKey) -> None:
    assert verify(sign(claims(exp=NOW - 20, iat=NOW + 20, nbf=NOW + 20), rsa_key), file_keys).subject == "alice"


# -- refused ------------------------------------------------------------------------------------


def test_verify_token__refuses_expired(file_keys: KeyStore, rsa_key: RSAKey) -> None:
    with pytest.raises(AuthenticationError, match="expired"):
        verify(sign(claims(exp=NOW - 31), rsa_key), file_keys)


def test_verify_token__refuses_a_token_without_exp(file_keys: KeyStore, rsa_key: RSAKey) -> None:
    with pytest.raises(AuthenticationError, match="exp"):
        verify(sign(claims(exp=None), rsa_key), file_keys)


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_verify_token__refuses_nbf_or_iat_in_the_future(file_keys: KeyStore, rsa_key: RSAKey, claim: str) -> None:
    with pytest.raises(AuthenticationError, match="future"):
        verify(sign(claims(**{claim: NOW + 120}), rsa_key), file_keys)


@pytest.mark.parametrize("aud", ["another-service", ["a", "b"], None, 7])
def test_verify_token__refuses_wrong_or_missing_audience(file_keys: KeyStore, rsa_key: RSAKey, aud: Any) -> None:
    with pytest.raises(AuthenticationError, match="aud"):
        verify(sign(claims(aud=aud), rsa_key), file_keys)


@pytest.mark.parametrize("sub", [None, "", 42])
def test_verify_token__refuses_missing_sub(file_keys: KeyStore, rsa_key: RSAKey, sub: Any) -> None:
    with pytest.raises(AuthenticationError, match="sub"):
        verify(sign(claims(sub=sub), rsa_key), file_keys)


def test_verify_token__refuses_wrong_issuer(file_keys: KeyStore, rsa_key: RSAKey) -> None:
    # GIVEN a token signed with a trusted key, but naming an issuer the node does not trust
    with pytest.raises(AuthenticationError, match="not trusted"):
        verify(sign(claims(iss="https://evil.example/"), rsa_key), file_keys)


def test_verify_token__untrusted_issuer_never_triggers_a_fetch(server: JwksServer, rsa_key: RSAKey) -> None:
    server.documents["/jwks.json"] = jwks(rsa_key)
    keys = KeyStore([TrustedIssuer(ISSUER, jwks_uri=server.url("/jwks.json"))])
    for iss in ("https://evil.example/", server.url("/jwks.json"), server.url("/")):
        with pytest.raises(AuthenticationError, match="not trusted"):
            verify(sign(claims(iss=iss), rsa_key, jku=server.url("/jwks.json")), keys)
    assert server.hits == []


def test_verify_token__refuses_alg_none(file_keys: KeyStore) -> None:
    for alg in ("none", "None", "NONE"):
        # an empty signature (the usual form) is not even a signed JWT; any other is refused for its alg
        with pytest.raises(AuthenticationError, match="not a signed JWT"):
            verify(unsigned({"alg": alg, "typ": "JWT"}, claims()), file_keys)
        with pytest.raises(AuthenticationError, match=r"algorithm .* is refused"):
            verify(unsigned({"alg": alg, "typ": "JWT"}, claims(), b"x"), file_keys)


def test_verify_token__refuses_hs256_signed_with_the_issuers_public_key(file_keys: KeyStore, rsa_key: RSAKey) -> None:
    # GIVEN the key-confusion attack: the RSA public key (PEM, and its JWK JSON) used as an HMAC secret
    secrets = [rsa_key.as_pem(private=False), json.dumps(rsa_key.as_dict(private=False)).encode()]
    for secret in secrets:
        for kid in ("rsa-1", None):
            header = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}
            signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims()).encode())}"
            mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
            # THEN it is refused for its algorithm, before any key is used
            with pytest.raises(AuthenticationError, match="algorithm 'HS256' is refused"):
                verify(f"{signing_input}.{b64url(mac)}", file_keys)


def test_verify_token__refuses_a_tampered_payload_or_signature(file_keys: KeyStore, rsa_key: RSAKey) -> None:
    token = sign(claims(), rsa_key)
    head, payload, signature = token.split(".")
    forged_payload = b64url(json.dumps(claims(sub="root")).encode())
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    for forged in (f"{head}.{forged_payload}.{signature}", f"{head}.{payload}.{flipped}"):
        with pytest.raises(AuthenticationError, match="signature does not verify"):
            verify(forged, file_keys)


def test_verify_token__refuses_a_token_signed_by_another_key_with_a_trusted_kid(
    file_keys: KeyStore, ec_key: ECKey
) -> None:
    impostor = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
    with pytest.raises(AuthenticationError, match="signature"):
        verify(sign(claims(), impostor, alg="ES256"), file_keys)


def test_verify_token__refuses_an_algorithm_that_does_not_fit_the_key(file_keys: KeyStore, rsa_key: RSAKey) -> None:
    # an RS256 header over the EC key's kid: no RSA key of that kid exists
    with pytest.raises(AuthenticationError, match="no RS256 key"):
        verify(sign(claims(), rsa_key, kid="ec-1"), file_keys)


def test_verify_token__refuses_unknown_kid(file_keys: KeyStore) -> None:
    stranger = RSAKey.import_key(RSAKey.generate_key(2048).as_dict(private=True), parameters={"kid": "rsa-9"})
    with pytest.raises(AuthenticationError, match="kid 'rsa-9'"):
        verify(sign(claims(), stranger), file_keys)


def test_verify_token__refuses_a_visa_used_as_a_bearer_token(file_keys: KeyStore, rsa_key: RSAKey) -> None:
    token = sign(claims(ga4gh_visa_v1={"type": "ControlledAccessGrants"}), rsa_key)
    with pytest.raises(AuthenticationError, match="visa"):
        verify(token, file_keys)


def test_verify_token__refuses_tokens_from_a_visa_only_issuer(tmp_path: Path, rsa_key: RSAKey) -> None:
    keys = KeyStore([TrustedIssuer(ISSUER, jwks_file=write_jwks(tmp_path / "k.json", rsa_key), kind="visa")])
    with pytest.raises(AuthenticationError, match="visas only"):
        verify(sign(claims(), rsa_key), keys)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d.e",
        "!!!.???.###",
        "eyJhbGciOiJSUzI1NiJ9..sig",
        b64url(b"[1]") + "." + b64url(b"{}") + ".c2ln",
        b64url(b'{"alg":"RS256","alg":"none"}') + "." + b64url(b"{}") + ".c2ln",
        b64url(b'{"alg":"RS256"}') + "." + b64url(b'{"exp": NaN}') + ".c2ln",
        b64url(b'{"alg":"RS256"}') + "." + b64url(b"not json") + ".c2ln",
    ],
)
def test_verify_token__refuses_malformed_tokens(file_keys: KeyStore, token: str) -> None:
    with pytest.raises(AuthenticationError):
        verify(token, file_keys)


def test_verify_token__refuses_critical_header_extensions(file_keys: KeyStore, rsa_key: RSAKey) -> None:
    with pytest.raises(AuthenticationError, match="critical"):
        verify(sign(claims(), rsa_key, crit=["exp"]), file_keys)


def test_verify_token__messages_never_echo_the_token(file_keys: KeyStore, rsa_key: RSAKey) -> None:
    for token in (sign(claims(exp=NOW - 3600), rsa_key), sign(claims(aud="x"), rsa_key)):
        with pytest.raises(AuthenticationError) as info:
            verify(token, file_keys)
        message = str(info.value)
        assert all(part not in message for part in token.split("."))


# -- key store ----------------------------------------------------------------------------------


class FakeClock:
    """Monotonic seconds that a test moves by hand (the store's cache clock, not token time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_key_store__unknown_kid_refetches_at_most_once_per_interval(server: JwksServer, ec_key: ECKey) -> None:
    # GIVEN an issuer that has rotated to a new key after the node cached its JWKS
    clock = FakeClock()
    server.documents["/jwks.json"] = jwks(ec_key)
    keys = KeyStore([TrustedIssuer(ISSUER, jwks_uri=server.url("/jwks.json"))], clock=clock)
    assert verify(sign(claims(), ec_key, alg="ES256"), keys)
    rotated = ECKey.generate_key("P-256", parameters={"kid": "ec-2"})
    server.documents["/jwks.json"] = jwks(ec_key, rotated)
    new_token = sign(claims(), rotated, alg="ES256")
    # WHEN tokens with the new kid arrive within 30 s of the last fetch THEN no refetch happens
    clock.now += 10
    for _ in range(3):
        with pytest.raises(AuthenticationError, match="kid"):
            verify(new_token, keys)
    assert len(server.hits) == 1
    # WHEN the interval has passed THEN one refetch finds the new key
    clock.now += 25
    assert verify(new_token, keys).subject == "alice"
    assert verify(new_token, keys).subject == "alice"
    assert len(server.hits) == 2
    # AND a kid that still does not exist costs at most one fetch per interval
    clock.now += 31
    ghost = ECKey.generate_key("P-256", parameters={"kid": "ec-9"})
    for _ in range(3):
        with pytest.raises(AuthenticationError, match="kid"):
            verify(sign(claims(), ghost, alg="ES256"), keys)
    assert len(server.hits) == 3


def test_key_store__keys_are_fetched_again_after_the_ttl(server: JwksServer, ec_key: ECKey) -> None:
    clock = FakeClock()
    server.documents["/jwks.json"] = jwks(ec_key)
    keys = KeyStore([TrustedIssuer(ISSUER, jwks_uri=server.url("/jwks.json"))], ttl=300, clock=clock)
    token = sign(claims(), ec_key, alg="ES256")
    verify(token, keys)
    clock.now += 299
    verify(token, keys)
    assert len(server.hits) == 1
    # a key the issuer withdrew stops working once the cache expires
    server.documents["/jwks.json"] = jwks(ECKey.generate_key("P-256", parameters={"kid": "ec-3"}))
    clock.now += 2
    with pytest.raises(AuthenticationError, match="kid"):
        verify(token, keys)
    assert len(server.hits) == 2


def test_key_store__an_unreachable_jwks_fails_fast_until_the_interval_passes(server: JwksServer, ec_key: ECKey) -> None:
    clock = FakeClock()
    keys = KeyStore([TrustedIssuer(ISSUER, jwks_uri=server.url("/missing.json"))], clock=clock)
    token = sign(claims(), ec_key, alg="ES256")
    for _ in range(3):
        with pytest.raises(AuthenticationError, match="keys of issuer"):
            verify(token, keys)
    assert server.hits == ["/missing.json"]
    clock.now += 31
    server.documents["/missing.json"] = jwks(ec_key)
    assert verify(token, keys).subject == "alice"


def test_key_store__does_not_follow_redirects(server: JwksServer, ec_key: ECKey) -> None:
    server.documents["/elsewhere.json"] = jwks(ec_key)
    server.redirects["/jwks.json"] = "/elsewhere.json"
    keys = KeyStore([TrustedIssuer(ISSUER, jwks_uri=server.url("/jwks.json"))])
    with pytest.raises(AuthenticationError, match="could not be fetched"):
        verify(sign(claims(), ec_key, alg="ES256"), keys)
    assert server.hits == ["/jwks.json"]


def test_key_store__ignores_symmetric_and_private_keys_in_a_jwks(server: JwksServer, ec_key: ECKey) -> None:
    server.documents["/jwks.json"] = {
        "keys": [
            {"kty": "oct", "k": b64url(b"s" * 32), "kid": "hmac"},
            dict(ec_key.as_dict(private=True)),
        ]
    }
    keys = KeyStore([TrustedIssuer(ISSUER, jwks_uri=server.url("/jwks.json"))])
    with pytest.raises(AuthenticationError, match="no usable signing key"):
        verify(sign(claims(), ec_key, alg="ES256"), keys)


def test_key_store__a_jwks_file_without_public_keys_is_a_configuration_error(tmp_path: Path, ec_key: ECKey) -> None:
    path = tmp_path / "private.json"
    path.write_text(json.dumps({"keys": [ec_key.as_dict(private=True)]}))
    keys = KeyStore([TrustedIssuer(ISSUER, jwks_file=path)])
    with pytest.raises(ConfigurationError, match="no usable public signing key"):
        verify(sign(claims(), ec_key, alg="ES256"), keys)


def test_key_store__local_keys_are_public_only_and_trusted_for_tokens(ec_key: ECKey) -> None:
    keys = KeyStore([], local={ISSUER: KeySet([ec_key])})
    assert verify(sign(claims(), ec_key, alg="ES256"), keys).subject == "alice"
    trusted = keys.trusted(ISSUER)
    assert trusted is not None and trusted.kind == "oidc"
    assert not keys.key_for(ISSUER, "ec-1", "ES256").is_private


def test_trusted_issuer__refuses_plain_http_except_on_loopback() -> None:
    with pytest.raises(ConfigurationError, match="https"):
        TrustedIssuer(ISSUER, jwks_uri="http://login.example.org/jwks")
    with pytest.raises(ConfigurationError, match="https"):
        TrustedIssuer(ISSUER, jwks_uri="file:///etc/passwd")
    assert TrustedIssuer(ISSUER, jwks_uri="http://127.0.0.1:8080/jwks").jwks_uri
    assert TrustedIssuer(ISSUER, jwks_uri="http://localhost/jwks").jwks_uri


def test_load_trusted_issuers__reads_entries_and_resolves_a_relative_jwks_file(tmp_path: Path) -> None:
    path = tmp_path / "issuers.json"
    entries = [
        {"issuer": ISSUER, "jwks_uri": "https://login.example.org/jwks", "kind": "oidc", "audience": "client-1"},
        {"issuer": "https://rems.example.org/", "jwks_file": "rems.json", "kind": "visa", "subject_issuers": [ISSUER]},
    ]
    path.write_text(json.dumps(entries))
    oidc, rems = load_trusted_issuers(path)
    assert oidc == TrustedIssuer(ISSUER, jwks_uri="https://login.example.org/jwks", audience="client-1", kind="oidc")
    assert rems.jwks_file == tmp_path / "rems.json" and rems.kind == "visa" and rems.subject_issuers == (ISSUER,)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not a readable JSON"),
        ('{"issuer": "x"}', "JSON list"),
        ('["x"]', "entry 0: must be a JSON object"),
        (f'[{{"issuer": "{ISSUER}", "jwks_uri": "https://a/j"}}, {{"issuer": "b"}}]', "entry 1: give 'jwks_uri'"),
        (f'[{{"issuer": "{ISSUER}", "jwks_uri": "http://a.example/j"}}]', "entry 0: .*https"),
        (f'[{{"issuer": "{ISSUER}", "jwks_uri": "https://a/j", "kind": "admin"}}]', "entry 0: .*kind"),
        (f'[{{"issuer": "{ISSUER}", "jwks_uri": "https://a/j", "jwks": {{}}}}]', "entry 0: unknown field"),
        (f'[{{"issuer": "{ISSUER}", "jwks_uri": "https://a/j"}}, {{"issuer": "{ISSUER}", "jwks_file": "f"}}]', "twice"),
    ],
)
def test_load_trusted_issuers__names_the_file_and_entry_on_bad_content(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "issuers.json"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match=message) as info:
        load_trusted_issuers(path)
    assert str(path) in str(info.value)


def test_load_trusted_issuers__missing_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="GENOMENODE_TRUSTED_ISSUERS_FILE"):
        load_trusted_issuers(tmp_path / "absent.json")
