"""A synthetic national node with one user per role, shared by the access tests.

Built with the same code as `genomenode demo` (simulate.national), smaller.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb

from genomenode.access.gate import AccessControl
from genomenode.catalog import sharing
from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.settings import Settings
from genomenode.simulate.demo_families import DemoFamily
from genomenode.simulate.national import DATASET, PROJECT, build_demo_node

Cells = dict[tuple[str, str, str, int, str, str], tuple[int, int, int, int]]


@dataclass(frozen=True)
class Person:
    pseudonym: str
    region: str
    project_id: str  # the research project's own pseudonym for them


@dataclass(frozen=True)
class SecureNode:
    settings: Settings
    tokens: dict[str, str]  # user → bearer token
    stockholm: Person  # consent covers the demo project's HMB purpose
    skane: Person  # another region, consent covers it too
    not_covered: Person  # consent that the project's purpose does not match (DS for a disease)
    spare: list[Person]  # more people, for tests that change consent
    families: tuple[DemoFamily, ...] = ()  # the demo's rare-disease trios, ingested (cases: add_analysed_cases)

    def headers(self, user: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}


def build_secure_node(data_dir: Path, *, individuals: int = 80, seed: int = 11) -> SecureNode:
    settings = Settings(data_dir=data_dir)
    node = build_demo_node(settings, individuals=individuals, seed=seed)
    gate = AccessControl(settings)
    try:
        tokens = {u: gate.issue_token(issuer=settings.public_url, subject=u) for u in node.users}
        with gate.Session() as s:
            rows = sharing.subject_rows(s)
        people: dict[str, list[Person]] = {}
        for row in rows:
            codes = row.consent_codes or ()
            covered = bool(codes) and codes[0] in ("GRU", "HMB", "NRES") and "NPU" not in codes
            kind = (
                "not_covered" if codes and codes[0].startswith("DS:") else (sorted(row.regions)[0] if covered else "")
            )
            if kind:
                project_id = gate._name(row.pseudonym, PROJECT)
                people.setdefault(kind, []).append(Person(row.pseudonym, sorted(row.regions)[0], project_id))
    finally:
        gate.close()
    return SecureNode(
        settings=settings,
        tokens=tokens,
        stockholm=people["stockholm"][0],
        skane=people["skane"][0],
        not_covered=people["not_covered"][0],
        spare=people["stockholm"][1:] + people["skane"][1:],
        families=node.families,
    )


def add_analysed_cases(node: SecureNode, folder: Path) -> None:
    """`case-stockholm` and `case-skane`: a singleton case of each region's person, analysed; and
    the demo's trios `family-stockholm` and `family-skane`, analysed as `genomenode demo` does."""
    from genomenode.access.gate import AccessControl
    from genomenode.cases.demo import add_demo_cases
    from genomenode.cases.service import analyse_case, create_case
    from genomenode.query.service import NodeQueries

    folder.mkdir(parents=True, exist_ok=True)
    gate, queries = AccessControl(node.settings), NodeQueries(node.settings)
    try:
        steward = gate.caller_for_token(node.tokens["steward"])
        for person in (node.stockholm, node.skane):
            _, dataset, sample = gate.individual(steward, person.pseudonym).row.samples[0]
            ped = folder / f"{person.region}.ped"
            ped.write_text(f"F\t{sample}\t0\t0\t0\t2\n")
            create_case(gate, steward, dataset=dataset, family=ped, name=f"case-{person.region}")
            analyse_case(gate, queries, steward, f"case-{person.region}")
    finally:
        queries.close()
        gate.close()
    add_demo_cases(node.settings, node.families)


def case_variants(node: SecureNode) -> dict[str, str]:
    """Region → the top candidate (chrom-pos-ref-alt) of the demo's `family-<region>`, for notes on it."""
    from genomenode.catalog import cases

    gate = AccessControl(node.settings)
    try:
        with gate.Session() as s:
            found = {region: cases.get_case(s, f"family-{region}").result for region in ("stockholm", "skane")}
    finally:
        gate.close()
    out = {}
    for region, result in found.items():
        assert result and result["candidates"], f"family-{region} has no candidates to note"
        c = result["candidates"][0]
        out[region] = f"{c['chrom']}-{c['pos']}-{c['ref']}-{c['alt']}"
    return out


def store_stats(settings: Settings) -> Cells:
    """Every live variant_stats cell of the node with a non-zero count."""
    from genomenode.catalog import repository as repo
    from genomenode.catalog.database import catalog_url, open_catalog, session_factory

    engine = open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
    with session_factory(engine)() as s:
        files = [str(settings.store_root / f.path) for f in repo.live_store_files(s, table_name="variant_stats")]
    engine.dispose()
    rows = duckdb.sql(
        "SELECT scope::VARCHAR, stratum::VARCHAR, stratum_value::VARCHAR, pos, ref, alt, ac, an, hom, hemi "
        f"FROM read_parquet({files!r}) WHERE ac > 0"
    ).fetchall()
    return {tuple(r[:6]): tuple(r[6:]) for r in rows}  # type: ignore[misc]


def sample_of(node: SecureNode, pseudonym: str) -> tuple[str, str]:
    from genomenode.access.gate import AccessControl
    from genomenode.catalog import sharing

    gate = AccessControl(node.settings)
    with gate.Session() as s:
        subject = sharing.get_subject(s, pseudonym)
        assert subject is not None
        [row] = sharing.subject_rows(s, [subject.id])
    gate.close()
    [(_, _, sample)] = row.samples
    return sample, sorted(row.regions)[0]


def reference_without(node: SecureNode, sample: str, tmp: Path, bcftools: str) -> Cells:
    """A fresh node sent every centre's file (and the demo families'), the person's column cut out by bcftools."""
    submissions = node.settings.data_dir / "demo-submissions"
    settings = Settings(data_dir=tmp / "reference")
    sent = [
        (vcf, vcf.name.removesuffix(".vcf.gz"), submissions / f"samples-{vcf.name.removesuffix('.vcf.gz')}.tsv")
        for vcf in sorted(submissions.glob("*.vcf.gz"))
    ]
    sent += [(f.vcf, f.region, f.sheet) for f in node.families]
    for vcf, centre, sheet in sent:
        lines = sheet.read_text().splitlines()
        kept = [ln for ln in lines if ln.split("\t")[0] != sample]
        if len(kept) < len(lines):
            cut = tmp / f"{centre}-{vcf.name}"
            subprocess.run([bcftools, "view", "-s", f"^{sample}", "-Oz", "-o", str(cut), str(vcf)], check=True)
            vcf = cut
            sheet = tmp / f"{centre}-{sheet.name}"
            sheet.write_text("\n".join(kept) + "\n")
        ingest(settings, IngestRequest(files=[vcf], dataset=DATASET, centre=centre, sample_sheet=sheet))
    return store_stats(settings)
