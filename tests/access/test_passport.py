"""GA4GH Passport visas: each verified like a token, bound to the caller, and read conservatively.

Visa issuers publish their keys on a real loopback JWKS server; the tests count its requests to
hold the promise that nothing off the allow-list is ever fetched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import ECKey, Key, RSAKey

from genomenode.access.identity import KeyStore, TrustedIssuer
from genomenode.access.node_issuer import NodeIssuer
from genomenode.access.passport import (
    REGISTERED_ACCESS,
    Visa,
    affiliations,
    check_visas,
    dataset_grants,
    is_registered_researcher,
    passport_visas,
    verify_visas,
)
from genomenode.errors import AuthenticationError
from tests.access.test_identity import JwksServer, b64url, jwks, sign

NOW = 1_750_000_000
BROKER = "https://login.example.org/oidc/"  # the caller's token issuer, which also mints visas
REMS = "https://rems.example.org/"  # a visa issuer that uses the broker's subject ids
HOSPITAL = "https://idp.hospital.example/realms/staff"  # issues tokens only
DS1 = "https://node.example/datasets/ds1"


@pytest.fixture(scope="module")
def rems_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rems-1"})


@pytest.fixture(scope="module")
def broker_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "broker-1"})


@pytest.fixture
def server(rems_key: RSAKey, broker_key: ECKey) -> Iterator[JwksServer]:
    with JwksServer() as s:
        s.documents["/rems/jwks.json"] = jwks(rems_key)
        s.documents["/broker/jwks.json"] = jwks(broker_key)
        s.documents["/hospital/jwks.json"] = jwks(broker_key)
        yield s


@pytest.fixture
def keys(server: JwksServer) -> KeyStore:
    return KeyStore(
        [
            TrustedIssuer(BROKER, jwks_uri=server.url("/broker/jwks.json"), kind="both"),
            TrustedIssuer(REMS, jwks_uri=server.url("/rems/jwks.json"), kind="visa", subject_issuers=(BROKER,)),
            TrustedIssuer(HOSPITAL, jwks_uri=server.url("/hospital/jwks.json"), kind="oidc"),
        ]
    )


@pytest.fixture
def allowed_jku(server: JwksServer) -> frozenset[str]:
    return frozenset({server.url("/rems/jwks.json"), server.url("/broker/jwks.json")})


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def visa(
    key: Key,
    *,
    alg: str = "RS256",
    jku: str | None = None,
    iss: str = REMS,
    sub: str | None = "alice",
    iat: int | None = NOW - 60,
    exp: int | None = NOW + 3600,
    **assertion: Any,
) -> str:
    body = {
        "type": "ControlledAccessGrants",
        "value": DS1,
        "source": "https://dac.example.org/dac-1",
        "by": "dac",
        "asserted": NOW - 86_400,
        **assertion,
    }
    payload = {
        "iss": iss,
        "sub": sub,
        "iat": iat,
        "exp": exp,
        "jti": "v1",
        "ga4gh_visa_v1": {k: v for k, v in body.items() if v is not None},
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    return sign(payload, key, alg=alg, jku=jku, typ="vnd.ga4gh.visa+jwt")


def check(raw: list[str], keys: KeyStore, allowed_jku: frozenset[str], **kwargs: Any) -> Any:
    return check_visas(
        raw,
        subject=kwargs.pop("subject", "alice"),
        subject_issuer=kwargs.pop("subject_issuer", BROKER),
        keys=keys,
        allowed_jku=allowed_jku,
        now=kwargs.pop("now", NOW),
        **kwargs,
    )


def rejected_reason(result: Any) -> str:
    assert result.valid == [] and len(result.rejected) == 1, result
    reason: str = result.rejected[0][1]
    return reason


# -- accepted -----------------------------------------------------------------------------------


def test_verify_visas__accepts_a_valid_grant_with_keys_from_its_allowed_jku(
    server: JwksServer, keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey
) -> None:
    raw = visa(rems_key, jku=server.url("/rems/jwks.json"))
    valid = verify_visas([raw], subject="alice", subject_issuer=BROKER, keys=keys, allowed_jku=allowed_jku, now=NOW)
    assert valid == [
        Visa(
            type="ControlledAccessGrants",
            value=DS1,
            source="https://dac.example.org/dac-1",
            by="dac",
            asserted=NOW - 86_400,
            expires_at=NOW + 3600,
            conditions=None,
            issuer=REMS,
            subject="alice",
        )
    ]
    assert dataset_grants(valid) == {DS1}
    assert server.hits == ["/rems/jwks.json"]


def test_verify_visas__accepts_visas_without_jku_using_the_issuers_configured_keys(
    keys: KeyStore, allowed_jku: frozenset[str], broker_key: ECKey
) -> None:
    raw = visa(broker_key, alg="ES256", iss=BROKER, value="ds2")
    assert dataset_grants(check([raw], keys, allowed_jku).valid) == {"ds2"}


def test_verify_visas__keeps_the_good_visas_when_one_is_bad(
    keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey
) -> None:
    result = check([visa(rems_key), visa(rems_key, sub="mallory"), visa(rems_key, value="ds3")], keys, allowed_jku)
    assert [v.value for v in result.valid] == [DS1, "ds3"]
    assert [index for index, _ in result.rejected] == [1]


def test_verify_visas__an_empty_conditions_list_is_no_condition(
    keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey
) -> None:
    assert check([visa(rems_key, conditions=[])], keys, allowed_jku).valid[0].conditions == []


def test_verify_visas__ignores_unknown_visa_types_without_fetching(
    server: JwksServer, keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey
) -> None:
    result = check([visa(rems_key, type="https://example.org/visaTypes/custom")], keys, allowed_jku)
    assert "ignored" in rejected_reason(result)
    assert server.hits == []


def test_node_issuer_visa__round_trips_when_the_node_is_a_configured_visa_issuer(tmp_path: Path) -> None:
    node = NodeIssuer("https://node.example", ECKey.generate_key("P-256", auto_kid=True), "genomenode")
    keys = KeyStore([TrustedIssuer(node.issuer, kind="both")], local={node.issuer: node.keyset()})
    raw = node.issue_visa(
        "alice",
        type="ControlledAccessGrants",
        value="ds1",
        source="https://node.example",
        by="dac",
        lifetime_s=60,
        now=NOW,
    )
    valid = verify_visas([raw], subject="alice", subject_issuer=node.issuer, keys=keys, allowed_jku=(), now=NOW)
    assert dataset_grants(valid) == {"ds1"}


# -- refused ------------------------------------------------------------------------------------


def test_verify_visas__refuses_a_visa_for_another_subject(
    keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey
) -> None:
    for sub in ("bob", None, "ALICE"):
        assert "subject" in rejected_reason(check([visa(rems_key, sub=sub)], keys, allowed_jku))


def test_verify_visas__refuses_a_visa_whose_issuer_does_not_share_the_callers_subject_ids(
    keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey, broker_key: ECKey
) -> None:
    # GIVEN a hospital user whose sub happens to equal a broker user's
    # THEN visas minted for the broker's "alice" do not apply to the hospital's "alice"
    for raw in (visa(rems_key), visa(broker_key, alg="ES256", iss=BROKER)):
        assert "subject ids" in rejected_reason(check([raw], keys, allowed_jku, subject_issuer=HOSPITAL))


def test_verify_visas__refuses_future_asserted(keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey) -> None:
    assert "asserted" in rejected_reason(check([visa(rems_key, asserted=NOW + 3600)], keys, allowed_jku))
    assert check([visa(rems_key, asserted=NOW + 20)], keys, allowed_jku).valid  # within leeway


def test_verify_visas__refuses_non_empty_conditions(
    keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey
) -> None:
    conditions = [[{"type": "AffiliationAndRole", "value": "const:faculty@uu.se", "by": "const:so"}]]
    assert "conditions" in rejected_reason(check([visa(rems_key, conditions=conditions)], keys, allowed_jku))


def test_verify_visas__never_fetches_a_jku_that_is_not_allowed(
    server: JwksServer, keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey
) -> None:
    # GIVEN jku values off the allow-list, and one that is allowed but belongs to another issuer
    server.documents["/attacker/jwks.json"] = jwks(rems_key)
    for jku in (
        server.url("/attacker/jwks.json"),
        "https://attacker.example/jwks.json",
        server.url("/broker/jwks.json"),
    ):
        result = check([visa(rems_key, jku=jku)], keys, allowed_jku)
        assert "jku" in rejected_reason(result)
    # THEN no key was fetched at all
    assert server.hits == []


def test_verify_visas__refuses_too_many_visas_as_a_whole(
    server: JwksServer, keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey
) -> None:
    raw = visa(rems_key)
    with pytest.raises(AuthenticationError, match="at most 3"):
        check([raw] * 4, keys, allowed_jku, max_visas=3)
    assert len(check([raw] * 3, keys, allowed_jku, max_visas=3).valid) == 3
    with pytest.raises(AuthenticationError, match="201 visas"):
        check([raw] * 201, keys, allowed_jku)


def test_verify_visas__refuses_an_oversized_visa_as_a_whole(
    server: JwksServer, keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey
) -> None:
    huge = visa(rems_key, padding="x" * 20_000)
    with pytest.raises(AuthenticationError, match="visa 1 is larger than 16384 bytes"):
        check([visa(rems_key), huge], keys, allowed_jku)
    assert server.hits == []


def test_verify_visas__refuses_hs256_even_signed_with_the_issuers_public_key(
    keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey
) -> None:
    header = {"alg": "HS256", "typ": "JWT", "kid": "rems-1"}
    payload = json.loads(b64url_decode(visa(rems_key).split(".")[1]))
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    mac = hmac.new(rems_key.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    assert "HS256" in rejected_reason(check([f"{signing_input}.{b64url(mac)}"], keys, allowed_jku))


def test_verify_visas__refuses_algorithms_allowed_on_tokens_but_not_on_visas(
    keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey
) -> None:
    assert "PS256" in rejected_reason(check([visa(rems_key, alg="PS256")], keys, allowed_jku))


def test_verify_visas__refuses_expired_or_undated_visas(
    keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey
) -> None:
    assert "expired" in rejected_reason(check([visa(rems_key, exp=NOW - 60)], keys, allowed_jku))
    assert "exp" in rejected_reason(check([visa(rems_key, exp=None)], keys, allowed_jku))
    assert "iat" in rejected_reason(check([visa(rems_key, iat=None)], keys, allowed_jku))


def test_verify_visas__refuses_a_tampered_visa(keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey) -> None:
    head, _, signature = visa(rems_key, value="ds1").split(".")
    forged = json.loads(b64url_decode(visa(rems_key, value="everything").split(".")[1]))
    raw = f"{head}.{b64url(json.dumps(forged).encode())}.{signature}"
    assert "signature" in rejected_reason(check([raw], keys, allowed_jku))


@pytest.mark.parametrize("iss", ["https://evil.example/", HOSPITAL])
def test_verify_visas__refuses_issuers_not_trusted_for_visas_without_fetching(
    server: JwksServer, keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey, iss: str
) -> None:
    assert "not trusted for visas" in rejected_reason(check([visa(rems_key, iss=iss)], keys, allowed_jku))
    assert server.hits == []


@pytest.mark.parametrize("visa_type", ["ControlledAccessGrants", "AcceptedTermsAndPolicies"])
def test_verify_visas__refuses_types_that_require_by_without_it(
    keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey, visa_type: str
) -> None:
    assert "(by)" in rejected_reason(check([visa(rems_key, type=visa_type, by=None)], keys, allowed_jku))


def test_verify_visas__by_is_optional_elsewhere_but_must_be_from_the_vocabulary(
    keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey
) -> None:
    status = visa(rems_key, type="ResearcherStatus", value=REGISTERED_ACCESS, by=None)
    assert check([status], keys, allowed_jku).valid[0].by is None
    assert "by must be one of" in rejected_reason(check([visa(rems_key, by="admin")], keys, allowed_jku))


@pytest.mark.parametrize(
    "assertion",
    [{"value": ""}, {"source": None}, {"asserted": "yesterday"}, {"asserted": True}, {"conditions": "x"}],
)
def test_verify_visas__refuses_malformed_assertions(
    keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey, assertion: dict[str, Any]
) -> None:
    rejected_reason(check([visa(rems_key, **assertion)], keys, allowed_jku))


def test_verify_visas__refuses_an_affiliation_without_an_organisation(
    keys: KeyStore, allowed_jku: frozenset[str], rems_key: RSAKey
) -> None:
    raw = visa(rems_key, type="AffiliationAndRole", value="faculty", by="system")
    assert "role@organisation" in rejected_reason(check([raw], keys, allowed_jku))


def test_passport_visas__reads_the_claim_and_refuses_a_malformed_one() -> None:
    assert passport_visas({}) == []
    assert passport_visas({"ga4gh_passport_v1": ["a.b.c"]}) == ["a.b.c"]
    for bad in ("a.b.c", [1], {"x": 1}):
        with pytest.raises(AuthenticationError, match="list of visa JWTs"):
            passport_visas({"ga4gh_passport_v1": bad})


# -- reading the verified visas -----------------------------------------------------------------


def v(visa_type: str, value: str, by: str | None = None) -> Visa:
    return Visa(visa_type, value, "https://uu.se", by, NOW - 10, NOW + 60, None, BROKER, "alice")


@pytest.mark.parametrize(
    ("visas", "expected"),
    [
        (
            [v("ResearcherStatus", REGISTERED_ACCESS, "so"), v("AcceptedTermsAndPolicies", REGISTERED_ACCESS, "self")],
            True,
        ),
        (
            [
                v("ResearcherStatus", REGISTERED_ACCESS, "system"),
                v("AcceptedTermsAndPolicies", REGISTERED_ACCESS, "so"),
            ],
            True,
        ),
        (
            [
                v("ResearcherStatus", REGISTERED_ACCESS, "self"),
                v("AcceptedTermsAndPolicies", REGISTERED_ACCESS, "self"),
            ],
            False,
        ),
        (
            [
                v("ResearcherStatus", REGISTERED_ACCESS, "peer"),
                v("AcceptedTermsAndPolicies", REGISTERED_ACCESS, "self"),
            ],
            False,
        ),
        ([v("ResearcherStatus", REGISTERED_ACCESS), v("AcceptedTermsAndPolicies", REGISTERED_ACCESS, "self")], False),
        ([v("ResearcherStatus", REGISTERED_ACCESS, "so")], False),
        (
            [
                v("ResearcherStatus", REGISTERED_ACCESS, "so"),
                v("AcceptedTermsAndPolicies", "https://other/terms", "self"),
            ],
            False,
        ),
        ([v("ControlledAccessGrants", REGISTERED_ACCESS, "dac")], False),
    ],
)
def test_is_registered_researcher__needs_vouched_status_and_accepted_terms_of_the_same_version(
    visas: list[Visa], expected: bool
) -> None:
    assert is_registered_researcher(visas) is expected


def test_affiliations__splits_role_and_organisation_at_the_first_at_sign() -> None:
    visas = [v("AffiliationAndRole", "faculty@uu.se", "so"), v("AffiliationAndRole", "ega.researcher@med@x.org")]
    assert affiliations(visas) == {("faculty", "uu.se"), ("ega.researcher", "med@x.org")}


def test_dataset_grants__returns_the_raw_values_of_grants_only() -> None:
    visas = [
        v("ControlledAccessGrants", DS1, "dac"),
        v("ControlledAccessGrants", "ds2", "dac"),
        v("ResearcherStatus", "x"),
    ]
    assert dataset_grants(visas) == {DS1, "ds2"}
