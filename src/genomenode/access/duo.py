"""GA4GH Data Use Ontology (DUO): consents, research purposes, and whether one permits the other.

The ontology is the official release file vendored in `access/data/duo-basic.owl` (see the README
there for origin, version and licence). Ids, labels, shorthand codes, definitions and the is_a
hierarchy all come from it; the constants below only name the terms the rules use, and loading
checks each against the file.

A consent (or a dataset's conditions) is a `DataUse`, written as DUO codes, one per string:

    ["HMB", "IRB"]                      health/medical/biomedical research, ethics approval required
    ["DS:MONDO:0005148", "NCU"]         research on type 2 diabetes (or a subtype), non-commercial
    ["GRU", "GS:SE", "TS:2027-12-31"]   any research, in Sweden, until the end of 2027

Each string is `<term>` or `<term>:<value>`, the term given as shorthand (any case) or DUO id
(`DUO:0000007:MONDO:0005148` is the same as `DS:MONDO:0005148`). Exactly one permission (NRES,
GRU, HMB, DS, POA); any modifiers. Values, one per string (repeat the code for more):
DS the disease (a CURIE: MONDO:…, OMIM:…, HP:…); GS a country or region code; TS the last day of
use (`TS:2027-12-31`) or a number of months counted from `time_limit_from`; MOR the end of the
publication moratorium; US/PS/IS an approved user/project/institution id; RS a DUO research type
(`RS:DUO:0000038`, genetic research). Other codes take no value.

A project's purpose is a `ResearchPurpose`: a DUO term (a permission other than NRES, or one of
DUO's research purpose terms under OBI "investigation") and facts about the project;
`ResearchPurpose.from_dict` reads one stored as JSON.

Matching (`match`) follows the DUO definitions and the matching guidance in DUO's README ("How
does querying work when using DUO?" and "Research Purpose to Query", from the Broad's DUOS):
the purpose is placed at its most specific node and a consent matches when it sits at that node
or above it. Rule by rule:

    NRES    permits every purpose (definition: "no restriction on use")
    GRU     purposes is_a GRU (HMB, DS) and POA research (GRU's comment in the file lists "the
            study of population origins or ancestry"; guidance: POA matches "any dataset tagged
            with GRU")
    HMB     purposes is_a HMB (HMB, DS); not POA ("does not include the study of population
            origins or ancestry") and not general (non-health) research
    DS      DS purposes whose every disease is a consented disease or a subtype (`disease_is_a`)
    POA     POA purposes only ("limited to the study of population origins or ancestry")
    NCU     not commercial use; NPU not a for-profit organisation; NPUNCU both
    IRB     ethics approval; COL, PUB, RTN the project's agreement; MOR agreement until its date
    GS      the project's country listed; TS decided on or before the last day of use
    US/PS/IS every user/project/institution of the project approved
    RS      every research type of the project under a consented one
    GSO     a genetic study; NMDS no methods research, except within the consented disease (DS)
    NPOA    no population, origin or ancestry research
    CC      allows clinical care; a purpose of clinical care needs CC (or NRES)

A modifier without a rule refuses (it is never silently ignored). Facts a project leaves unsaid
(`commercial`, `not_for_profit`, `methods_research`, the date `on`) refuse every consent that
restricts them.
"""

from __future__ import annotations

import calendar
import functools
import re
import xml.etree.ElementTree as ET  # only for the vendored package file, never for user input
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any

from genomenode.errors import ConfigurationError, InputError, listing

DATA_FILE = "duo-basic.owl"

# Terms the rules name, by id; `_EXPECTED` checks each against the file's shorthand or label.
PERMISSION, MODIFIER, INVESTIGATION = "DUO:0000001", "DUO:0000017", "OBI:0000066"
NRES, GRU, HMB, DS, POA = "DUO:0000004", "DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000011"
RS, NMDS, GSO, NPUNCU, PUB = "DUO:0000012", "DUO:0000015", "DUO:0000016", "DUO:0000018", "DUO:0000019"
COL, IRB, GS, MOR, TS = "DUO:0000020", "DUO:0000021", "DUO:0000022", "DUO:0000024", "DUO:0000025"
US, PS, IS, RTN, CC = "DUO:0000026", "DUO:0000027", "DUO:0000028", "DUO:0000029", "DUO:0000043"
NPOA, NPU, NCU = "DUO:0000044", "DUO:0000045", "DUO:0000046"
METHOD_DEVELOPMENT, POPULATION_RESEARCH, ANCESTRY_RESEARCH = "DUO:0000031", "DUO:0000032", "DUO:0000033"
BIOMEDICAL_RESEARCH, GENETIC_RESEARCH, DISEASE_RESEARCH = "DUO:0000037", "DUO:0000038", "DUO:0000040"

_EXPECTED: dict[str, str] = {
    PERMISSION: "data use permission", MODIFIER: "data use modifier", INVESTIGATION: "investigation",
    NRES: "NRES", GRU: "GRU", HMB: "HMB", DS: "DS", POA: "POA", RS: "RS", NMDS: "NMDS", GSO: "GSO",
    NPUNCU: "NPUNCU", PUB: "PUB", COL: "COL", IRB: "IRB", GS: "GS", MOR: "MOR", TS: "TS", US: "US",
    PS: "PS", IS: "IS", RTN: "RTN", CC: "CC", NPOA: "NPOA", NPU: "NPU", NCU: "NCU",
    METHOD_DEVELOPMENT: "method development", POPULATION_RESEARCH: "population research",
    ANCESTRY_RESEARCH: "ancestry research", BIOMEDICAL_RESEARCH: "biomedical research",
    GENETIC_RESEARCH: "genetic research", DISEASE_RESEARCH: "disease category research",
}  # fmt: skip

# DUO's research purpose terms (under OBI investigation) and its permissions are separate branches
# with no link in the file; this maps a research purpose to the permission whose definition covers
# it, most specific first. Any other research purpose (methods, population, age, gender, control)
# is general research, which only GRU and NRES permit.
_PURPOSE_SCOPE = ((DISEASE_RESEARCH, DS), (BIOMEDICAL_RESEARCH, HMB), (ANCESTRY_RESEARCH, POA))

_RDF, _RDFS = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}", "{http://www.w3.org/2000/01/rdf-schema#}"
_OWL, _OBO = "{http://www.w3.org/2002/07/owl#}", "{http://purl.obolibrary.org/obo/}"
_OBOINOWL, _LANG = "{http://www.geneontology.org/formats/oboInOwl#}", "{http://www.w3.org/XML/1998/namespace}lang"
_CURIE = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*):([A-Za-z0-9_.:-]+)")
_REGION = re.compile(r"[A-Za-z0-9_.:-]+")


# -- the ontology ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DuoTerm:
    id: str  # DUO:0000006
    label: str
    shorthand: str | None  # HMB; None for terms without one
    definition: str
    parents: tuple[str, ...]  # direct is_a parents
    comments: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """`DUO:0000006 HMB`, or the id and label for a term without a shorthand."""
        return f"{self.id} {self.shorthand}" if self.shorthand else f"{self.id} ({self.label})"


class DuoOntology:
    """The terms of one DUO release and their is_a hierarchy."""

    def __init__(self, terms: Iterable[DuoTerm], *, version: str, source: str) -> None:
        self.version, self.source = version, source
        self.terms: Mapping[str, DuoTerm] = {t.id: t for t in terms}
        self._by_shorthand = {t.shorthand.upper(): t for t in self.terms.values() if t.shorthand}
        self._ancestors = {t: self._walk_up(t) for t in self.terms}

    @classmethod
    def from_owl(cls, data: bytes, *, source: str) -> DuoOntology:
        """Read an OWL RDF/XML release of DUO (duo-basic.owl)."""
        root = ET.fromstring(data)  # noqa: S314 - the vendored release file, never user input
        version_iri = root.find(f"{_OWL}Ontology/{_OWL}versionIRI")
        iri = "" if version_iri is None else version_iri.get(f"{_RDF}resource", "")
        version = m.group(1) if (m := re.search(r"/releases/([^/]+)/", iri)) else "unknown"
        classes = [c for c in root.findall(f"{_OWL}Class") if c.get(f"{_RDF}about")]
        ids = {
            c.get(f"{_RDF}about", ""): _text(c, f"{_OBOINOWL}id") or _curie(c.get(f"{_RDF}about", "")) for c in classes
        }
        terms = []
        for c in classes:
            if _text(c, f"{_OWL}deprecated") == "true":
                continue
            parents = [s.get(f"{_RDF}resource", "") for s in c.findall(f"{_RDFS}subClassOf")]
            terms.append(
                DuoTerm(
                    id=ids[c.get(f"{_RDF}about", "")],
                    label=_text(c, f"{_RDFS}label") or "",
                    shorthand=_text(c, f"{_OBOINOWL}shorthand"),
                    definition=_text(c, f"{_OBO}IAO_0000115") or "",
                    parents=tuple(ids.get(p, _curie(p)) for p in parents if p),
                    comments=tuple((e.text or "").strip() for e in c.findall(f"{_RDFS}comment")),
                )
            )
        return cls(terms, version=version, source=source)

    @property
    def shorthands(self) -> tuple[str, ...]:
        return tuple(sorted(t.shorthand for t in self.terms.values() if t.shorthand))

    def term(self, code: str) -> DuoTerm:
        """A term by id (`DUO:0000006`) or shorthand (`HMB`, any case)."""
        key = code.strip() if isinstance(code, str) else ""
        found = self.terms.get(key) or self.terms.get(key.upper()) or self._by_shorthand.get(key.upper())
        if found is None:
            raise InputError(
                f"unknown DUO term {code!r}: give a DUO id such as DUO:0000042 or a shorthand code "
                f"({', '.join(self.shorthands)}); DUO release {self.version}"
            )
        return found

    def ancestors(self, code: str) -> frozenset[str]:
        """Every term above `code` (transitively), not itself."""
        return self._ancestors[self.term(code).id]

    def is_a(self, child: str, parent: str) -> bool:
        """`child` is `parent` or lies below it (ids or shorthands)."""
        c, p = self.term(child).id, self.term(parent).id
        return c == p or p in self._ancestors[c]

    def _walk_up(self, term_id: str) -> frozenset[str]:
        seen: set[str] = set()
        todo = list(self.terms[term_id].parents)
        while todo:
            parent = todo.pop()
            if parent not in seen:
                seen.add(parent)
                todo.extend(self.terms[parent].parents if parent in self.terms else ())
        return frozenset(seen)


@functools.cache
def load_duo() -> DuoOntology:
    """The vendored DUO release, read once per process."""
    resource = resources.files("genomenode.access").joinpath("data", DATA_FILE)
    source = f"genomenode/access/data/{DATA_FILE}"
    try:
        duo = DuoOntology.from_owl(resource.read_bytes(), source=source)
    except (OSError, ET.ParseError) as exc:
        raise ConfigurationError(f"{source}: cannot read the DUO ontology ({exc}); reinstall genomenode") from exc
    for term_id, expected in _EXPECTED.items():
        term = duo.terms.get(term_id)
        if term is None or expected not in (term.shorthand, term.label):
            raise ConfigurationError(
                f"{source}: {term_id} is not {expected!r} in DUO release {duo.version}; "
                "the matching rules in access/duo.py must be checked against this release"
            )
    if "population origins or ancestry" not in " ".join(duo.terms[GRU].comments):
        raise ConfigurationError(f"{source}: GRU's comment no longer includes POA research; check the GRU rule")
    return duo


def _text(element: ET.Element, tag: str) -> str | None:
    """The element's `tag` child's text, English (or untagged) first."""
    found = [(e.get(_LANG) not in (None, "en"), e.text.strip()) for e in element.findall(tag) if e.text]
    return min(found)[1] if found else None


def _curie(iri: str) -> str:
    """http://purl.obolibrary.org/obo/DUO_0000001 → DUO:0000001."""
    prefix, _, local = iri.rpartition("/")[2].partition("_")
    return f"{prefix}:{local}"


# -- a consent ---------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class DataUse:
    """Data use conditions (a person's consent, or a dataset's), as DUO terms. See the module doc."""

    permission: str  # DUO permission id: NRES, GRU, HMB, DS or POA
    diseases: frozenset[str] = frozenset()  # DS
    modifiers: frozenset[str] = frozenset()  # DUO modifier ids
    countries: frozenset[str] = frozenset()  # GS
    time_limit: date | None = None  # TS: the last day of use
    users: frozenset[str] = frozenset()  # US: approved users
    projects: frozenset[str] = frozenset()  # PS: approved projects
    institutions: frozenset[str] = frozenset()  # IS: approved institutions
    research_types: frozenset[str] = frozenset()  # RS: DUO research purpose ids
    publication_moratorium: date | None = None  # MOR: no publication until this day

    def __post_init__(self) -> None:
        duo = load_duo()
        permission = duo.term(self.permission).id
        if permission == PERMISSION or PERMISSION not in duo.ancestors(permission):
            raise InputError(f"{duo.term(permission).name} is not a data use permission; {_one_permission(duo)}")
        modifiers = frozenset(duo.term(m).id for m in _strings(self.modifiers, "modifiers"))
        for m in sorted(modifiers):
            if MODIFIER not in duo.ancestors(m):
                raise InputError(f"{duo.term(m).name} is not a data use modifier; {_one_permission(duo)}")
        _set(self, "permission", permission)
        _set(self, "modifiers", modifiers)
        _set(self, "diseases", frozenset(_disease(d) for d in _strings(self.diseases, "diseases")))
        _set(self, "countries", frozenset(_region(c) for c in _strings(self.countries, "countries")))
        for name in ("users", "projects", "institutions"):
            _set(self, name, frozenset(_strings(getattr(self, name), name)))
        _set(self, "research_types", frozenset(_research_type(t) for t in _strings(self.research_types, "RS")))
        _set(self, "time_limit", _date(self.time_limit, "time_limit"))
        _set(self, "publication_moratorium", _date(self.publication_moratorium, "publication_moratorium"))
        needs = {DS: ("diseases", "DS:MONDO:0005148"), GS: ("countries", "GS:SE"), TS: ("time_limit", "TS:2027-12-31"),
                 US: ("users", "US:<user id>"), PS: ("projects", "PS:<project id>"),
                 IS: ("institutions", "IS:<institution id>"), RS: ("research_types", "RS:DUO:0000038"),
                 MOR: ("publication_moratorium", "MOR:2026-06-30")}  # fmt: skip
        for term_id, (name, example) in needs.items():
            present = term_id == permission or term_id in modifiers
            if present and not getattr(self, name):
                raise InputError(f"{duo.term(term_id).name} needs its value, one per code: write {example}")
            if getattr(self, name) and not present:
                raise InputError(f"{name} given without {duo.term(term_id).name}; add the code {example}")

    def to_codes(self) -> tuple[str, ...]:
        """The consent as DUO code strings that `parse_data_use` reads back to an equal DataUse."""
        duo = load_duo()
        short = {t: duo.terms[t].shorthand or t for t in (self.permission, *self.modifiers)}
        values = {
            DS: self.diseases, GS: self.countries, US: self.users, PS: self.projects, IS: self.institutions,
            RS: self.research_types, TS: {self.time_limit.isoformat()} if self.time_limit else set(),
            MOR: {self.publication_moratorium.isoformat()} if self.publication_moratorium else set(),
        }  # fmt: skip
        out = []
        for term_id in (self.permission, *sorted(self.modifiers)):
            vals = sorted(values.get(term_id, ()))
            out += [f"{short[term_id]}:{v}" for v in vals] if vals else [short[term_id]]
        return tuple(out)


def parse_data_use(codes: Sequence[str], *, time_limit_from: date | None = None) -> DataUse:
    """A consent from DUO code strings (see the module doc), e.g. ["HMB", "IRB"] or ["DS:MONDO:0005148"].

    `time_limit_from` is the day `TS:<months>` counts from (the consent or approval date); the
    last day of use is the day before the same date that many months later.
    """
    duo = load_duo()
    if isinstance(codes, str):
        codes = [codes]
    permission: str | None = None
    modifiers: set[str] = set()
    values: dict[str, set[str]] = {}
    for raw in codes:
        head, value = _split_code(raw)
        try:
            term = duo.term(head)
        except InputError as exc:
            raise InputError(f"DUO code {raw!r}: {exc}") from None
        if PERMISSION in duo.ancestors(term.id):
            if permission not in (None, term.id):
                raise InputError(f"DUO codes {list(codes)!r} name two permissions; {_one_permission(duo)}")
            permission = term.id
        elif MODIFIER in duo.ancestors(term.id):
            modifiers.add(term.id)
        else:
            raise InputError(f"DUO code {raw!r}: {term.name} is neither a data use permission nor a modifier")
        if value is not None:
            if term.id not in (DS, GS, TS, US, PS, IS, RS, MOR):
                raise InputError(f"DUO code {raw!r}: {term.name} takes no value; write {term.shorthand}")
            values.setdefault(term.id, set()).add(value)
    if permission is None:
        raise InputError(f"DUO codes {list(codes)!r} name no permission; {_one_permission(duo)}")
    limits = [_time_limit(v, time_limit_from) for v in values.get(TS, ())]
    moratoria = [_iso_date(v, "MOR") for v in values.get(MOR, ())]
    return DataUse(
        permission=permission,
        modifiers=frozenset(modifiers),
        diseases=frozenset(values.get(DS, ())),
        countries=frozenset(values.get(GS, ())),
        users=frozenset(values.get(US, ())),
        projects=frozenset(values.get(PS, ())),
        institutions=frozenset(values.get(IS, ())),
        research_types=frozenset(values.get(RS, ())),
        time_limit=min(limits, default=None),  # the earliest end binds
        publication_moratorium=max(moratoria, default=None),  # the latest binds
    )


def _split_code(raw: str) -> tuple[str, str | None]:
    """`DS:MONDO:1` → (DS, MONDO:1); `DUO:0000007:MONDO:1` → (DUO:0000007, MONDO:1); `HMB` → (HMB, None)."""
    code = raw.strip() if isinstance(raw, str) else ""
    if not code:
        raise InputError(f"DUO code {raw!r} is empty; write a shorthand such as HMB or an id such as DUO:0000006")
    parts = code.split(":", 2) if code.upper().startswith("DUO:") else ["", *code.split(":", 1)]
    head = ":".join(parts[:2]).lstrip(":")
    value = parts[2].strip() if len(parts) > 2 else None
    if value == "":
        raise InputError(f"DUO code {raw!r} has an empty value after ':'")
    return head, value


def _time_limit(value: str, start: date | None) -> date:
    if not value.isdigit():
        return _iso_date(value, "TS")
    if start is None:
        raise InputError(
            f"TS:{value} counts months from a date: pass the consent date as time_limit_from, "
            "or write the last day of use, e.g. TS:2027-12-31"
        )
    year, month = divmod(start.month - 1 + int(value), 12)
    year, month = start.year + year, month + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1])) - timedelta(days=1)


def _one_permission(duo: DuoOntology) -> str:
    names = sorted(t.shorthand for t in duo.terms.values() if t.shorthand and PERMISSION in duo.ancestors(t.id))
    return f"a consent names exactly one permission ({', '.join(names)}) and any modifiers"


# -- a project's purpose -----------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class ResearchPurpose:
    """What a project does with data, as DUO matching reads it. Accepts JSON-shaped values
    (lists for sets, ISO dates) so a stored purpose can be passed as `ResearchPurpose(**row)`.

    `commercial`, `not_for_profit` and `methods_research` are None when the project has not said;
    every consent that restricts them then refuses, as does TS or MOR when `on` is None.
    """

    purpose: str  # DUO term: GRU, HMB, DS, POA or a research purpose (DUO:0000031 method development, …)
    diseases: frozenset[str] = frozenset()  # the diseases a DS / disease category purpose studies
    commercial: bool | None = None  # commercial use (NCU)
    not_for_profit: bool | None = None  # a not-for-profit organisation (NPU)
    methods_research: bool | None = None  # methods, software or algorithm development (NMDS)
    ethics_approved: bool = False  # IRB/ERB approval documented (IRB)
    country: str | None = None  # where the data are used (GS)
    collaborates_with_originator: bool = False  # COL
    will_publish: bool = False  # PUB
    return_results: bool = False  # RTN: returns derived/enriched data
    genetic_study: bool = False  # includes genotype research (GSO)
    clinical_care: bool = False  # data are used in clinical care (CC)
    accepts_publication_moratorium: bool = False  # MOR
    users: frozenset[str] = frozenset()  # US: everyone who will use the data
    projects: frozenset[str] = frozenset()  # PS
    institutions: frozenset[str] = frozenset()  # IS
    research_types: frozenset[str] = frozenset()  # RS: DUO research purpose ids the study is
    on: date | None = None  # the day access is decided (TS, MOR)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ResearchPurpose:
        """A purpose stored as JSON, e.g. {"purpose": "DS", "diseases": ["MONDO:0005148"]}."""
        known = sorted(f.name for f in fields(cls))
        unknown = sorted(set(data) - set(known))
        if unknown or "purpose" not in data:
            problem = (
                f"unknown field {listing(unknown)}" if unknown else "'purpose' (a DUO term such as HMB) is missing"
            )
            raise InputError(f"project purpose: {problem}; its fields are {', '.join(known)}")
        values: dict[str, Any] = dict(data)  # __post_init__ checks every value's type
        return cls(**values)

    def __post_init__(self) -> None:
        duo = load_duo()
        try:
            term = duo.term(self.purpose).id
        except InputError as exc:
            raise InputError(f"project purpose: {exc}") from None
        permission = PERMISSION in duo.ancestors(term) and term != NRES
        if not (permission or INVESTIGATION in duo.ancestors(term)):
            raise InputError(
                f"project purpose: {duo.term(term).name} is not a research purpose; use GRU, HMB, DS, POA or "
                "a DUO research purpose term such as DUO:0000031 (method development)"
            )
        _set(self, "purpose", term)
        _set(self, "diseases", frozenset(_disease(d) for d in _strings(self.diseases, "diseases")))
        disease_specific = _scope(duo, term) == DS
        if disease_specific and not self.diseases:
            example = '{"purpose": "DS", "diseases": ["MONDO:0005148"]}'
            raise InputError(f"project purpose: {duo.term(term).name} needs the diseases it studies, e.g. {example}")
        if self.diseases and not disease_specific:
            raise InputError(f"project purpose: diseases go with a disease-specific purpose (DS), not {term}")
        for name in ("commercial", "not_for_profit", "methods_research"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), bool):
                raise InputError(f"project purpose: {name} must be true, false or left out")
        for name in ("ethics_approved", "collaborates_with_originator", "will_publish", "return_results",
                     "genetic_study", "clinical_care", "accepts_publication_moratorium"):  # fmt: skip
            if not isinstance(getattr(self, name), bool):
                raise InputError(f"project purpose: {name} must be true or false")
        if self.country is not None:
            if not isinstance(self.country, str):
                raise InputError(f"project purpose: country must be a country code such as SE, not {self.country!r}")
            _set(self, "country", _region(self.country))
        for name in ("users", "projects", "institutions"):
            _set(self, name, frozenset(_strings(getattr(self, name), name)))
        _set(self, "research_types", frozenset(_research_type(t) for t in _strings(self.research_types, "RS")))
        _set(self, "on", _date(self.on, "on"))


def _scope(duo: DuoOntology, purpose: str) -> str:
    """The permission a purpose term falls under: DS, HMB, POA, or GRU for general research."""
    if PERMISSION in duo.ancestors(purpose):
        return purpose
    return next((scope for term, scope in _PURPOSE_SCOPE if duo.is_a(purpose, term)), GRU)


# -- matching ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: tuple[str, ...] = ()  # why not: each names the DUO term that failed

    def __bool__(self) -> bool:
        return self.allowed


DiseaseIsA = Callable[[str, str], bool]  # (disease, consented disease) → is it that disease or a subtype


def match(purpose: ResearchPurpose, use: DataUse, *, disease_is_a: DiseaseIsA | None = None) -> Decision:
    """Does consent `use` permit `purpose`? Pure: the answer depends on the arguments alone.

    `disease_is_a(d, c)` says whether disease `d` is `c` or a subtype (a MONDO lookup, say); by
    default only the same id matches, which refuses subtypes rather than guessing.
    """
    duo = load_duo()
    covers = disease_is_a or _same_disease
    reasons = _permission_reasons(duo, purpose, use, covers)
    disease_matched = use.permission == DS and not reasons
    for modifier in sorted(use.modifiers):
        rule = _MODIFIER_RULES.get(modifier)
        problem = (
            rule(duo, purpose, use, disease_matched)
            if rule
            else "it is not evaluated automatically; the data access committee decides"
        )
        if problem:
            term = duo.terms[modifier]
            reasons.append(f"{term.name}: {term.label}, but {problem}")
    if purpose.clinical_care and use.permission != NRES and CC not in use.modifiers:
        # CC "indicates that use is allowed for clinical use and care"; HMB/GRU alone do not
        # include it (release notes 2020-02-03: HMB "doesn't include clinical care").
        term = duo.terms[CC]
        reasons.append(f"{term.name}: {term.label} is not in the consent, but the project uses the data in care")
    return Decision(not reasons, tuple(reasons))


def match_all(purpose: ResearchPurpose, uses: Iterable[DataUse], *, disease_is_a: DiseaseIsA | None = None) -> Decision:
    """Granted only when every sample's consent permits the purpose; reasons grouped and counted."""
    decided: dict[DataUse, Decision] = {}
    counts: dict[str, int] = {}
    total = failed = 0
    for use in uses:
        total += 1
        if use not in decided:
            decided[use] = match(purpose, use, disease_is_a=disease_is_a)
        if not decided[use].allowed:
            failed += 1
            for reason in decided[use].reasons:
                counts[reason] = counts.get(reason, 0) + 1
    if total == 0:
        return Decision(False, ("no sample consents were given: access is granted per sample, so none is granted",))
    if failed == 0:
        return Decision(True)
    grouped = sorted(counts.items(), key=lambda kv: -kv[1])  # stable: ties keep first-seen order
    return Decision(
        False,
        (
            f"{failed} of {total} samples' consent does not permit the purpose",
            *(f"{n} of {total}: {r}" for r, n in grouped),
        ),
    )


def _same_disease(disease: str, consented: str) -> bool:
    return disease == consented


def _permission_reasons(duo: DuoOntology, purpose: ResearchPurpose, use: DataUse, covers: DiseaseIsA) -> list[str]:
    if use.permission == NRES:  # NRES: "there is no restriction on use"
        return []
    consent, scope = duo.terms[use.permission], _scope(duo, purpose.purpose)
    consented = f"{consent.name}: {consent.label}" + (f" ({', '.join(sorted(use.diseases))})" if use.diseases else "")
    # The purpose's node or any node above it (README: "return every dataset that is labeled with
    # PARENT NODES"); GRU's comment adds POA, which the file does not place under GRU.
    if not (duo.is_a(scope, use.permission) or (use.permission == GRU and scope == POA)):
        wanted = duo.terms[purpose.purpose]
        return [f"{consented}, but the project's purpose is {wanted.name}: {wanted.label}"]
    if use.permission == DS:
        # DS: "allowed provided it is related to the specified disease"; a purpose's disease must
        # be a consented one or its subtype ("tagged to a MONDO ontology Parent of disease X").
        outside = sorted(d for d in purpose.diseases if not any(covers(d, c) for c in use.diseases))
        if outside:
            return [
                f"{consented}, but the project studies {listing(outside)}: not a consented disease or a subtype of one"
            ]
    return []


Rule = Callable[[DuoOntology, ResearchPurpose, DataUse, bool], str | None]


def _ncu(duo: DuoOntology, p: ResearchPurpose, use: DataUse, disease_matched: bool) -> str | None:
    # NCU: "limited to not-for-profit use"; comment: commercial organisations may use it for research.
    if p.commercial is None:
        return "the project does not say whether its use is commercial (commercial: true or false)"
    return "the project's use is commercial" if p.commercial else None


def _npu(duo: DuoOntology, p: ResearchPurpose, use: DataUse, disease_matched: bool) -> str | None:
    # NPU: "limited to not-for-profit organizations".
    if p.not_for_profit is None:
        return "the project does not say whether its organisation is not-for-profit (not_for_profit)"
    return None if p.not_for_profit else "the project's organisation is for-profit"


def _npuncu(duo: DuoOntology, p: ResearchPurpose, use: DataUse, disease_matched: bool) -> str | None:
    # NPUNCU: "limited to not-for-profit organizations and not-for-profit use" (NPU and NCU are its children).
    problems = [x for x in (_npu(duo, p, use, disease_matched), _ncu(duo, p, use, disease_matched)) if x]
    return "; ".join(problems) or None


def _flag(attribute: str, problem: str) -> Rule:
    """A requirement the project meets by a yes: IRB, COL, PUB, RTN and GSO."""
    return lambda duo, p, use, matched: None if getattr(p, attribute) else problem


def _gs(duo: DuoOntology, p: ResearchPurpose, use: DataUse, disease_matched: bool) -> str | None:
    # GS: "limited to within a specific geographic region".
    if p.country is None:
        return f"the project states no country (country), and use is limited to {', '.join(sorted(use.countries))}"
    if p.country not in use.countries:
        return f"the project works in {p.country}, not in {', '.join(sorted(use.countries))}"
    return None


def _ts(duo: DuoOntology, p: ResearchPurpose, use: DataUse, disease_matched: bool) -> str | None:
    # TS: "use is approved for a specific number of months"; stored as the last day of use.
    if p.on is None or use.time_limit is None:  # DataUse always has the limit when TS is present
        return f"the purpose gives no date (on) to check the last day of use, {use.time_limit}, against"
    return f"use ended on {use.time_limit} and access is decided on {p.on}" if p.on > use.time_limit else None


def _mor(duo: DuoOntology, p: ResearchPurpose, use: DataUse, disease_matched: bool) -> str | None:
    # MOR: "requestor agrees not to publish results of studies until a specific date".
    until = use.publication_moratorium  # DataUse always has it when MOR is present
    if p.accepts_publication_moratorium or (p.on is not None and until is not None and p.on > until):
        return None
    return f"the project has not agreed not to publish before {until}"


def _approved(attribute: str, what: str) -> Rule:
    """US, PS, IS: "limited to use by approved users" / "within an approved project/institution"."""

    def rule(duo: DuoOntology, p: ResearchPurpose, use: DataUse, disease_matched: bool) -> str | None:
        mine, approved = getattr(p, attribute), getattr(use, attribute)
        if not mine:
            return f"the project names no {what} ({attribute})"
        outside = sorted(mine - approved)
        return f"{listing(outside)} not among the approved {what}" if outside else None

    return rule


def _rs(duo: DuoOntology, p: ResearchPurpose, use: DataUse, disease_matched: bool) -> str | None:
    # RS: "limited to studies of a certain research type"; a type's subtypes are that type too.
    if not p.research_types:
        return "the project declares no research type (research_types)"
    outside = sorted(t for t in p.research_types if not any(duo.is_a(t, a) for a in use.research_types))
    allowed = ", ".join(duo.terms[a].name for a in sorted(use.research_types))
    return f"the project is also {listing(outside)}, outside {allowed}" if outside else None


def _nmds(duo: DuoOntology, p: ResearchPurpose, use: DataUse, disease_matched: bool) -> str | None:
    # NMDS: "does not allow methods development research"; the label says *general* methods
    # research, and the README's guidance allows it when "NMDS is true AND DS-X match".
    methods = p.methods_research or any(duo.is_a(t, METHOD_DEVELOPMENT) for t in _terms_of(p))
    if not methods and p.methods_research is None:
        return "the project does not say whether it is methods research (methods_research: true or false)"
    if methods and not disease_matched:
        return "the project is methods development research" + (
            " outside the consented disease" if use.permission == DS else ""
        )
    return None


def _gso(duo: DuoOntology, p: ResearchPurpose, use: DataUse, disease_matched: bool) -> str | None:
    # GSO: "genotype research alone or both genotype and phenotype research, but not phenotype research exclusively".
    if p.genetic_study or any(duo.is_a(t, GENETIC_RESEARCH) for t in _terms_of(p)):
        return None
    return "the project is not a genetic study (genetic_study: true when it includes genotype research)"


def _npoa(duo: DuoOntology, p: ResearchPurpose, use: DataUse, disease_matched: bool) -> str | None:
    # NPOA: "use for purposes of population, origin, or ancestry research is prohibited".
    banned = (ANCESTRY_RESEARCH, POPULATION_RESEARCH, POA)
    if any(duo.is_a(t, b) for t in _terms_of(p) for b in banned):
        return "the project is population, origin or ancestry research"
    return None


def _terms_of(p: ResearchPurpose) -> tuple[str, ...]:
    return (p.purpose, *sorted(p.research_types))


_MODIFIER_RULES: dict[str, Rule] = {
    NCU: _ncu,
    NPU: _npu,
    NPUNCU: _npuncu,
    # IRB: "the requestor must provide documentation of local IRB/ERB approval".
    IRB: _flag("ethics_approved", "the project has no ethics (IRB/ERB) approval on record"),
    # COL: "the requestor must agree to collaboration with the primary study investigator(s)".
    COL: _flag("collaborates_with_originator", "the project has not agreed to collaborate with the originators"),
    # PUB: "requestor agrees to make results of studies using the data available".
    PUB: _flag("will_publish", "the project has not agreed to publish its results"),
    # RTN: "the requestor must return derived/enriched data to the database/resource".
    RTN: _flag("return_results", "the project has not agreed to return derived data"),
    GS: _gs,
    TS: _ts,
    MOR: _mor,
    US: _approved("users", "users"),
    PS: _approved("projects", "projects"),
    IS: _approved("institutions", "institutions"),
    RS: _rs,
    NMDS: _nmds,
    GSO: _gso,
    NPOA: _npoa,
    CC: lambda duo, p, use, matched: None,  # CC permits clinical care; it restricts nothing
}


# -- small validators --------------------------------------------------------------------------
def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)  # normalising a frozen dataclass in __post_init__


def _strings(value: object, name: str) -> list[str]:
    items = list(value) if isinstance(value, Iterable) and not isinstance(value, str) else None
    if items is None or not all(isinstance(v, str) and v.strip() for v in items):
        raise InputError(f"{name} must be a list of non-empty strings, not {value!r}")
    return [v.strip() for v in items]


def _disease(value: str) -> str:
    """A disease CURIE with its prefix in capitals: mondo:0005148 → MONDO:0005148."""
    m = _CURIE.fullmatch(value.strip())
    if not m:
        raise InputError(f"disease {value!r} is not an ontology id; write it as a CURIE such as MONDO:0005148")
    return f"{m.group(1).upper()}:{m.group(2)}"


def _region(value: str) -> str:
    if not _REGION.fullmatch(value.strip()):
        raise InputError(f"country {value!r}: write a country or region code such as SE (GS:SE)")
    return value.strip().upper()


def _research_type(value: str) -> str:
    duo = load_duo()
    term = duo.term(value)
    if INVESTIGATION not in duo.ancestors(term.id):
        raise InputError(f"research type {value!r}: {term.name} is not a DUO research purpose term (DUO:0000031…40)")
    return term.id


def _date(value: object, name: str) -> date | None:
    """None, a date, or an ISO date string (as JSON carries it)."""
    if value is None or isinstance(value, str):
        return None if value is None else _iso_date(value, name)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise InputError(f"{name} {value!r} is not a date; write it as YYYY-MM-DD")


def _iso_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{name} {value!r} is not a date; write it as YYYY-MM-DD") from None


__all__ = [
    "DataUse",
    "Decision",
    "DuoOntology",
    "DuoTerm",
    "ResearchPurpose",
    "load_duo",
    "match",
    "match_all",
    "parse_data_use",
]
