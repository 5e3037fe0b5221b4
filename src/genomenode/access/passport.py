"""GA4GH Passport v1.2 visas: verified like tokens, then read for dataset grants and researcher status.

A passport is the `ga4gh_passport_v1` claim (of a passport JWT, a token or a userinfo response):
a list of visas, each a JWT whose `ga4gh_visa_v1` claim is one assertion. Some beacons decode
visas without checking their signatures; this node verifies every one, as the AAI profile's
"Conformance for Passport Clearinghouses" asks:

- RS256 or ES256 only (AAI profile, Signing Algorithms);
- `iss` must be a trusted issuer of kind `visa` or `both`;
- a `jku` header must be in `allowed_jku` AND be the `jwks_uri` configured for that `iss`,
  checked before any key is fetched (AAI profile, clearinghouse conformance 5.3.2); keys are
  then read from that URL, through the KeyStore, which fetches nothing else;
- the signature verifies; `exp` and `iat` are present (Passport spec, Visa Format), `exp` not
  past, `iat`, `nbf` and the visa's `asserted` not in the future (with leeway);
- the visa is bound to the caller: its `sub` equals the caller's subject, and its `iss` is the
  caller's token issuer or lists that issuer in its `subject_issuers` setting. A `sub` is only
  unique within one issuer, so an equal `sub` from an unrelated issuer is another person; an
  issuer such as REMS that mints visas for LS Login's subjects is configured with
  `"subject_issuers": ["<LS Login issuer>"]`. We do not follow LinkedIdentities visas to join
  identities;
- `conditions`, when present and non-empty, make the visa rejected: this node does not evaluate
  conditions, and the spec says a clearinghouse that cannot must not accept such visas;
- `by` is required on ControlledAccessGrants and AcceptedTermsAndPolicies (Passport spec, the
  "MUST include the by claim" line of each type) and, when present, must be one of the spec's
  fixed vocabulary (self, peer, system, so, dac);
- `type`, `value`, `source` are non-empty strings and `asserted` an integer; an
  AffiliationAndRole value must split at "@" into role and organisation.

More than `max_visas` visas, or any visa over `max_visa_bytes`, fails the whole passport with
AuthenticationError before anything is decoded. Otherwise an invalid visa is dropped and its
index and reason recorded (`check_visas` returns both lists; `verify_visas` the valid ones). A
visa of a type this node does not know is ignored (recorded as such), never fatal.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from genomenode.access.identity import (
    KeyStore,
    check_algorithm,
    check_signature,
    check_times,
    parse_jws,
)
from genomenode.errors import AuthenticationError

PASSPORT_CLAIM = "ga4gh_passport_v1"
VISA_CLAIM = "ga4gh_visa_v1"
VISA_ALGORITHMS = frozenset({"RS256", "ES256"})

AFFILIATION_AND_ROLE = "AffiliationAndRole"
ACCEPTED_TERMS_AND_POLICIES = "AcceptedTermsAndPolicies"
RESEARCHER_STATUS = "ResearcherStatus"
CONTROLLED_ACCESS_GRANTS = "ControlledAccessGrants"
LINKED_IDENTITIES = "LinkedIdentities"
STANDARD_TYPES = frozenset(
    {AFFILIATION_AND_ROLE, ACCEPTED_TERMS_AND_POLICIES, RESEARCHER_STATUS, CONTROLLED_ACCESS_GRANTS, LINKED_IDENTITIES}
)
#: Passport spec, "by": the fixed vocabulary
BY_VALUES = frozenset({"self", "peer", "system", "so", "dac"})
#: Passport spec: these types "MUST include the by claim"
BY_REQUIRED = frozenset({CONTROLLED_ACCESS_GRANTS, ACCEPTED_TERMS_AND_POLICIES})

#: Registered access (Dyke et al. 2018), the value both visas carry (Passport spec, Registered Access)
REGISTERED_ACCESS = "https://doi.org/10.1038/s41431-018-0219-y"
#: who may vouch for bona fide researcher status: a signing official or the organisation's system
BONA_FIDE_BY = frozenset({"so", "system"})


@dataclass(frozen=True)
class Visa:
    """One verified visa assertion, bound to the caller."""

    type: str
    value: str
    source: str
    by: str | None
    asserted: int
    expires_at: int
    conditions: list[Any] | None
    issuer: str
    subject: str


@dataclass(frozen=True)
class VisaResult:
    """The visas that passed, and (index in the passport, reason) for each one that did not."""

    valid: list[Visa]
    rejected: list[tuple[int, str]]


def passport_visas(claims: Mapping[str, Any]) -> list[str]:
    """The visa JWTs of a claims set; none if the claim is absent, AuthenticationError if malformed."""
    raw = claims.get(PASSPORT_CLAIM)
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise AuthenticationError(f"{PASSPORT_CLAIM} must be a list of visa JWTs")
    return list(raw)


def check_visas(
    visa_jwts: Sequence[str],
    *,
    subject: str,
    subject_issuer: str,
    keys: KeyStore,
    allowed_jku: Collection[str],
    now: float | None = None,
    leeway: int = 30,
    max_visas: int = 200,
    max_visa_bytes: int = 16384,
) -> VisaResult:
    """Verify every visa for the caller (`subject` as issued by `subject_issuer`)."""
    now = time.time() if now is None else now
    if len(visa_jwts) > max_visas:
        raise AuthenticationError(f"passport has {len(visa_jwts)} visas; at most {max_visas} are accepted")
    for index, jwt in enumerate(visa_jwts):
        if not isinstance(jwt, str):
            raise AuthenticationError(f"visa {index} is not a string")
        if len(jwt) > max_visa_bytes:
            raise AuthenticationError(f"visa {index} is larger than {max_visa_bytes} bytes")
    valid: list[Visa] = []
    rejected: list[tuple[int, str]] = []
    for index, jwt in enumerate(visa_jwts):
        try:
            valid.append(
                _verify_visa(
                    jwt,
                    subject=subject,
                    subject_issuer=subject_issuer,
                    keys=keys,
                    allowed_jku=allowed_jku,
                    now=now,
                    leeway=leeway,
                    max_bytes=max_visa_bytes,
                )
            )
        except AuthenticationError as exc:
            rejected.append((index, str(exc)))
    return VisaResult(valid, rejected)


def verify_visas(
    visa_jwts: Sequence[str],
    *,
    subject: str,
    subject_issuer: str,
    keys: KeyStore,
    allowed_jku: Collection[str],
    now: float | None = None,
    leeway: int = 30,
    max_visas: int = 200,
    max_visa_bytes: int = 16384,
) -> list[Visa]:
    """The valid visas only (see `check_visas` for the reasons the others were dropped)."""
    return check_visas(
        visa_jwts,
        subject=subject,
        subject_issuer=subject_issuer,
        keys=keys,
        allowed_jku=allowed_jku,
        now=now,
        leeway=leeway,
        max_visas=max_visas,
        max_visa_bytes=max_visa_bytes,
    ).valid


def _verify_visa(
    jwt: str,
    *,
    subject: str,
    subject_issuer: str,
    keys: KeyStore,
    allowed_jku: Collection[str],
    now: float,
    leeway: int,
    max_bytes: int,
) -> Visa:
    # Everything that can be refused from the unverified visa is refused before a key is fetched.
    parsed = parse_jws(jwt, what="visa", max_bytes=max_bytes)
    alg = check_algorithm(parsed, VISA_ALGORITHMS, what="visa")
    claims = parsed.claims
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise AuthenticationError("visa has no iss claim")
    trusted = keys.trusted(issuer)
    if trusted is None or not trusted.issues_visas:
        raise AuthenticationError("visa issuer is not trusted for visas")
    assertion = claims.get(VISA_CLAIM)
    if not isinstance(assertion, dict):
        raise AuthenticationError(f"visa has no {VISA_CLAIM} object")
    visa_type = assertion.get("type")
    if not isinstance(visa_type, str) or not visa_type:
        raise AuthenticationError("visa type is missing")
    if visa_type not in STANDARD_TYPES:
        raise AuthenticationError("visa type is not one this node supports; ignored")
    jku = parsed.header.get("jku")
    if jku is not None and (not isinstance(jku, str) or jku not in allowed_jku):
        raise AuthenticationError("visa jku is not on the allow-list; its keys were not fetched")
    if claims.get("sub") != subject:
        raise AuthenticationError("visa subject is not the caller")
    if issuer != subject_issuer and subject_issuer not in trusted.subject_issuers:
        raise AuthenticationError("visa issuer does not share the caller's issuer's subject ids")

    key = keys.key_for(issuer, parsed.header.get("kid"), alg, jku=jku)
    check_signature(parsed, key, alg, what="visa")
    exp, _ = check_times(claims, now=now, leeway=leeway, what="visa", require_iat=True)

    value, source, by = assertion.get("value"), assertion.get("source"), assertion.get("by")
    asserted, conditions = assertion.get("asserted"), assertion.get("conditions")
    if not isinstance(value, str) or not value:
        raise AuthenticationError("visa value is missing")
    if not isinstance(source, str) or not source:
        raise AuthenticationError("visa source is missing")
    if isinstance(asserted, bool) or not isinstance(asserted, int):
        raise AuthenticationError("visa asserted must be an integer of seconds since 1970")
    if asserted > now + leeway:
        raise AuthenticationError("visa asserted time is in the future")
    if by is None and visa_type in BY_REQUIRED:
        raise AuthenticationError(f"a {visa_type} visa must say by whom it was asserted (by)")
    if by is not None and by not in BY_VALUES:
        raise AuthenticationError(f"visa by must be one of {', '.join(sorted(BY_VALUES))}")
    if conditions is not None and not isinstance(conditions, list):
        raise AuthenticationError("visa conditions must be a list")
    if conditions:
        raise AuthenticationError("visa has conditions, which this node does not evaluate")
    if visa_type == AFFILIATION_AND_ROLE and not _split_affiliation(value):
        raise AuthenticationError("AffiliationAndRole value must be role@organisation")
    return Visa(
        type=visa_type,
        value=value,
        source=source,
        by=by,
        asserted=asserted,
        expires_at=exp,
        conditions=conditions,
        issuer=issuer,
        subject=subject,
    )


def dataset_grants(visas: Iterable[Visa]) -> frozenset[str]:
    """The raw values of ControlledAccessGrants visas (a dataset URL or bare id, as the DAC wrote it)."""
    return frozenset(v.value for v in visas if v.type == CONTROLLED_ACCESS_GRANTS)


def is_registered_researcher(visas: Iterable[Visa], *, terms: Collection[str] = (REGISTERED_ACCESS,)) -> bool:
    """Registered access (Passport spec, Registered Access; ELIXIR's bona fide researcher rule).

    True when, for one version of registered access in `terms`, the caller holds both a
    ResearcherStatus visa asserted by a signing official or the organisation's system
    (`by` so or system: "self" and "peer" do not vouch, and an absent `by` is "unknown", which
    the spec says must not satisfy a policy expecting a value) and an AcceptedTermsAndPolicies
    visa, both with that same value.
    """
    visas = list(visas)
    status = {v.value for v in visas if v.type == RESEARCHER_STATUS and v.by in BONA_FIDE_BY}
    accepted = {v.value for v in visas if v.type == ACCEPTED_TERMS_AND_POLICIES}
    return any(t in status and t in accepted for t in terms)


def affiliations(visas: Iterable[Visa]) -> frozenset[tuple[str, str]]:
    """(role, organisation) pairs from AffiliationAndRole visas, e.g. ("faculty", "uu.se")."""
    out = set()
    for v in visas:
        if v.type == AFFILIATION_AND_ROLE:
            pair = _split_affiliation(v.value)
            if pair:
                out.add(pair)
    return frozenset(out)


def _split_affiliation(value: str) -> tuple[str, str] | None:
    """Passport spec, AffiliationAndRole: split at the first "@" sign, else an error."""
    role, at, organisation = value.partition("@")
    return (role, organisation) if at and role and organisation else None
