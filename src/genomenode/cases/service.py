"""Rare-disease cases on the national database: create, analyse, report (issue 5).

A case is a family of samples of one dataset (a PED file or a Phenopacket v2 Family whose ids are
the samples' names), the proband's HPO terms and an optional PanelApp panel, kept in the catalog.
Who may work on a case is the node's one rule for individual-level data (access.policy, through
`AccessControl.individual`): the caller must be allowed every member's data (a clinician of each
member's region, or a steward). A case the caller may not see reads exactly like one that does not
exist. Before any genotype is read, one `read.genotypes` audit entry per member is written; if the
audit log cannot be written, nothing is read. The analysis uses the family's stored calls and the
nation-wide counts less the family's own alleles (`family_store`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select

from genomenode.access import policy
from genomenode.access.gate import AccessControl
from genomenode.cases import knowledge
from genomenode.cases.analysis import CaseRequest, CaseResult, analyse
from genomenode.cases.family_store import family_variants
from genomenode.catalog import cases as catalog_cases
from genomenode.catalog import repository as repo
from genomenode.catalog.models import Sample, Subject
from genomenode.domain.assembly import Assembly
from genomenode.domain.pedigree import Affection, Member, Pedigree
from genomenode.domain.phenotypes import normalise_curie
from genomenode.domain.samples import Sex
from genomenode.errors import AuthenticationError, CaseError, NotFoundError, listing
from genomenode.ingest.panels import read_panel_file
from genomenode.ingest.pedigree import read_ped, read_phenopacket_family
from genomenode.interpret.raredisease.panels import Confidence, Panel, parse_panelapp_json, parse_panelapp_tsv
from genomenode.interpret.raredisease.quality import QualityFilter
from genomenode.interpret.raredisease.scores import RankingOptions
from genomenode.query.service import NodeQueries

ReportFormat = Literal["json", "tsv", "html"]
TSV_COLUMNS = ("rank", "gene", "chrom", "pos", "ref", "alt", "inheritance", "score", "reasons")
TSV_EXTRA = ("consequence", "hgvs", "max_af", "acmg", "genotypes")


@dataclass(frozen=True)
class _Visible:
    """A member's sample the caller was allowed, with what the analysis needs of it."""

    member: str
    sample: int
    pseudonym: str
    withdrawn: bool


# -- create -----------------------------------------------------------------------------------
def read_family(path: Path, *, proband: str | None) -> tuple[Pedigree, tuple[str, ...]]:
    """The family from a PED file or a Phenopacket v2 Family (.json), and the HPO terms the
    Phenopacket records as observed in the proband."""
    if path.suffix.lower() == ".json":
        packet = read_phenopacket_family(path)
        chosen = proband or packet.proband
        if chosen not in packet.pedigree:
            raise CaseError(f"{path}: no member {chosen!r}; check --proband against the family")
        return packet.pedigree.with_proband(chosen), tuple(packet.observed.get(chosen, ()))
    families = read_ped(path)
    if proband is not None:
        holding = [f for f in families.values() if proband in f.ids]
        if not holding:
            raise CaseError(f"{path}: no family has a member {proband!r}; check --proband against the PED")
        return holding[0].with_proband(proband), ()
    if len(families) > 1:
        raise CaseError(f"{path}: {len(families)} families ({listing(sorted(families))}); name the --proband")
    (family,) = families.values()
    return family.with_proband(family.default_proband()), ()


def check_hpo(terms: Sequence[str]) -> tuple[str, ...]:
    """The terms as current HPO ids, or a CaseError naming every one that cannot be used."""
    ontology = knowledge.hpo()
    out: list[str] = []
    problems: list[str] = []
    for raw in terms:
        term = normalise_curie(raw)
        if not term:
            continue
        problem = ontology.problem(term)
        if problem is not None:
            problems.append(problem)
            continue
        out.append(ontology.resolve(term) or term)
    if problems:
        raise CaseError("HPO terms: " + "; ".join(problems))
    return tuple(dict.fromkeys(out))


def _stored_panel(path: Path) -> dict[str, Any]:
    found = read_panel_file(path)
    stored = {"format": found.format, "name": found.name, "source": found.source, "content": found.content}
    _panel(stored)  # refuse a panel that does not parse now, not at the first analysis
    return stored


def _panel(stored: dict[str, Any]) -> Panel:
    if stored["format"] == "json":
        return parse_panelapp_json(stored["content"], source=stored["source"])
    return parse_panelapp_tsv(stored["content"], source=stored["source"], name=stored["name"])


def _signed_in(caller: policy.Caller) -> None:
    if caller.anonymous:
        raise AuthenticationError("cases need a token: set $GENOMENODE_TOKEN or pass --token-file")


def _allowed(gate: AccessControl, caller: policy.Caller, pseudonym: str) -> tuple[bool, bool]:
    """(allowed, consent withdrawn) for one person, by the gate's policy (a denial is audited)."""
    try:
        person = gate.individual(caller, pseudonym)
    except NotFoundError:
        return False, False
    return True, person.facts.withdrawn


def create_case(
    gate: AccessControl,
    caller: policy.Caller,
    *,
    dataset: str,
    family: Path,
    proband: str | None = None,
    hpo: Sequence[str] = (),
    panel: Path | None = None,
    panel_level: Confidence = Confidence.GREEN,
    name: str | None = None,
) -> catalog_cases.CaseRow:
    """Record a case. Every id of the family must be a sample of `dataset` the caller may see;
    an id that is not, or that the caller may not see, is named in the same words either way."""
    _signed_in(caller)
    pedigree, recorded = read_family(family, proband=proband)
    terms = check_hpo([*hpo, *recorded])
    stored_panel = _stored_panel(panel) if panel is not None else None
    case_name = (name or catalog_cases.new_case_name()).strip()
    if not case_name or len(case_name) > 128 or not case_name.isprintable() or "/" in case_name:
        raise CaseError(f"case name {case_name!r}: give 1-128 printable characters without '/'")
    with gate.Session() as s:
        found_dataset = repo.get_dataset(s, dataset)
        if found_dataset is None:
            raise NotFoundError(f"no dataset {dataset!r}; `genomenode datasets` lists them")
        samples = catalog_cases.member_samples(s, dataset_id=found_dataset.id, names=pedigree.ids)
    hidden = [m for m in pedigree.ids if m not in samples or not _allowed(gate, caller, samples[m].pseudonym)[0]]
    if hidden:
        raise CaseError(
            f"{family}: {listing(hidden)} {'is not a sample' if len(hidden) == 1 else 'are not samples'} "
            f"of dataset {dataset!r} that you may see; the family's ids must be the sample names its VCFs "
            "were ingested with"
        )
    assert pedigree.proband is not None
    members = [
        {
            "id": mem.id,
            "sample": samples[mem.id].sample,
            "father": mem.father,
            "mother": mem.mother,
            "sex": mem.sex.value,
            "affection": mem.affection.value,
        }
        for mem in pedigree
    ]
    with gate.Session() as s, s.begin():
        catalog_cases.add_case(
            s,
            name=case_name,
            dataset_id=found_dataset.id,
            region=samples[pedigree.proband].region,
            members=members,
            proband=pedigree.proband,
            hpo=terms,
            panel=stored_panel,
            panel_level=panel_level.name.lower(),
            created_by=caller.actor,
        )
    gate.record(caller, "case.create", target=case_name, outcome="done", dataset=dataset, members=len(members))
    with gate.Session() as s:
        return catalog_cases.get_case(s, case_name)


# -- access to a stored case ------------------------------------------------------------------
def _open_case(gate: AccessControl, caller: policy.Caller, name: str) -> tuple[catalog_cases.CaseRow, list[_Visible]]:
    """The case and its members' samples, if the caller may see every member; else NotFoundError
    worded as for a case that does not exist (the denial is in the audit log)."""
    _signed_in(caller)
    with gate.Session() as s:
        try:
            case = catalog_cases.get_case(s, name)
        except NotFoundError:
            raise NotFoundError(f"no case {name!r}") from None
        codes = [c for c in case.samples.values() if c is not None]
        rows = s.execute(
            select(Sample.id, Sample.status, Subject.pseudonym)
            .join(Subject, Subject.id == Sample.subject_id)
            .where(Sample.id.in_(codes))
        ).all()
    by_code = {int(r[0]): (r[1], r[2]) for r in rows}
    visible: list[_Visible] = []
    denied = False
    for member, code in case.samples.items():
        if code is None:
            continue  # erased: left out, as a member without genotypes
        status, pseudonym = by_code.get(code, ("missing", ""))
        if status != "active":
            raise CaseError(
                f"case {name}: {member}'s sample was {status} after the case was created; create the case again"
            )
        allowed, withdrawn = _allowed(gate, caller, pseudonym)
        denied |= not allowed
        visible.append(_Visible(member, code, pseudonym, withdrawn))
    if denied or not visible:
        raise NotFoundError(f"no case {name!r}")
    return case, visible


def _pedigree(case: catalog_cases.CaseRow) -> Pedigree:
    members = tuple(
        Member(
            m["id"],
            father=m["father"],
            mother=m["mother"],
            sex=Sex(m["sex"]),
            affection=Affection(m["affection"]),
        )
        for m in case.members
    )
    return Pedigree(case.name, members, proband=case.proband)


# -- analyse ----------------------------------------------------------------------------------
def analyse_case(
    gate: AccessControl,
    queries: NodeQueries,
    caller: policy.Caller,
    name: str,
    *,
    quality: QualityFilter | None = None,
    ranking: RankingOptions | None = None,
    request_id: str | None = None,
) -> CaseResult:
    """Analyse the case on the family's stored calls and store the result as its latest."""
    case, visible = _open_case(gate, caller, name)
    # the audit entries first: if one cannot be written, nothing individual-level is read
    for v in visible:
        gate.record(
            caller, "read.genotypes", target=v.pseudonym, request_id=request_id, via=f"case {name}", sample=v.member
        )
    found = queries.family_calls(assembly=case.assembly, samples=[v.sample for v in visible])
    variants = family_variants(
        found,
        assembly=Assembly(case.assembly),
        members=[(v.member, v.sample) for v in visible],
        counted=[not v.withdrawn for v in visible],
        source=f"case {name} (dataset {case.dataset})",
    )
    level = Confidence[case.panel_level.upper()]
    request = CaseRequest(
        pedigree=_pedigree(case),
        hpo=case.hpo,
        proband=case.proband,
        panel=_panel(case.panel) if case.panel is not None else None,
        panel_confidence=level,
        quality=quality or QualityFilter(),
        ranking=ranking or RankingOptions(),
    )
    result = analyse(variants, request)
    settings = {**result.settings, "panel": case.panel["name"] if case.panel else None, "panel_level": level.name}
    with gate.Session() as s, s.begin():
        catalog_cases.store_result(s, name, result=result.as_dict(), settings=settings, analysed_by=caller.actor)
    return result


# -- report -----------------------------------------------------------------------------------
def case_report(
    gate: AccessControl,
    caller: policy.Caller,
    name: str,
    output_format: ReportFormat = "json",
    *,
    request_id: str | None = None,
) -> str:
    """The case's latest analysis as JSON, TSV or a self-contained HTML page."""
    case, visible = _open_case(gate, caller, name)
    if case.result is None:
        raise NotFoundError(f"case {name} has no analysis yet; run `genomenode case analyse --case {name}`")
    for v in visible:
        gate.record(caller, "read.case", target=v.pseudonym, request_id=request_id, via=f"case {name}", sample=v.member)
    result = case.result
    if output_format == "html":
        from genomenode.cases.report_html import render_html

        names = knowledge.hpo().names if result.get("hpo") else None
        return render_html(result, term_names=names, generated=datetime.now(UTC))
    if output_format == "tsv":
        return report_tsv(result)
    document = {"case": _summary(case), **result}
    return json.dumps(document, indent=1) + "\n"


def report_tsv(result: dict[str, Any]) -> str:
    """A row per candidate variant, with the columns `case analyse --format tsv` writes."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow((*TSV_COLUMNS, *TSV_EXTRA))
    for c in result.get("candidates", []):
        row = dict(c)
        row["reasons"] = "; ".join(c["reasons"])
        row["acmg"] = ",".join(k.split(" ", 1)[0] for k in c["acmg"])
        row["genotypes"] = ",".join(f"{m}={g}" for m, g in c["genotypes"].items())
        row["max_af"] = "" if c["max_af"] is None else f"{c['max_af']:.3g}"
        row["hgvs"] = c["hgvs"] or ""
        writer.writerow([row[k] for k in (*TSV_COLUMNS, *TSV_EXTRA)])
    return out.getvalue()


def _summary(case: catalog_cases.CaseRow) -> dict[str, Any]:
    return {
        "name": case.name,
        "dataset": case.dataset,
        "assembly": case.assembly,
        "region": case.region,
        "proband": case.proband,
        "members": [{k: v for k, v in m.items() if k != "sample"} for m in case.members],
        "hpo": list(case.hpo),
        "panel": case.panel["name"] if case.panel else None,
        "panel_level": case.panel_level,
        "created_by": case.created_by,
        "created_at": case.created_at.isoformat(),
        "analysed_by": case.analysed_by,
        "analysed_at": case.analysed_at.isoformat() if case.analysed_at else None,
        "settings": case.settings,
    }


def list_cases(gate: AccessControl, caller: policy.Caller) -> list[dict[str, Any]]:
    """The cases whose every member the caller may see (no audit entry: no individual-level data)."""
    _signed_in(caller)
    visible = {p.row.pseudonym for p in gate.individuals(caller)}
    with gate.Session() as s:
        cases = catalog_cases.list_cases(s)
        codes = [c for case in cases for c in case.samples.values() if c is not None]
        pseudonyms = dict(
            s.execute(
                select(Sample.id, Subject.pseudonym)
                .join(Subject, Subject.id == Sample.subject_id)
                .where(Sample.id.in_(codes))
            ).all()
        )
    out = []
    for case in cases:
        people = [pseudonyms.get(c) for c in case.samples.values() if c is not None]
        if people and all(p in visible for p in people):
            out.append(_summary(case))
    return out
