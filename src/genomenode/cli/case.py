"""`genomenode case`: rare-disease candidates for one family, ranked and explained.

`analyse --vcf` looks at one family's VCF with no database; `create`, `analyse --case`, `report`
and `list` work on cases kept in the catalog, on the national database, as the caller behind
$GENOMENODE_TOKEN or --token-file (cases.service decides and audits).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from genomenode.cli.sharing import fail
from genomenode.domain.assembly import Assembly
from genomenode.errors import GenomenodeError

case_app = typer.Typer(help="Rare-disease cases: ranked, explained candidate variants.", no_args_is_help=True)
err = Console(stderr=True)

TSV_COLUMNS = ("rank", "gene", "chrom", "pos", "ref", "alt", "inheritance", "score", "reasons")
TSV_EXTRA = ("consequence", "hgvs", "max_af", "acmg", "genotypes")


class CaseFormat(StrEnum):
    tsv = "tsv"
    json = "json"
    html = "html"


class PanelLevel(StrEnum):
    green = "green"
    amber = "amber"
    red = "red"


TokenFile = Annotated[
    Path | None, typer.Option("--token-file", help="File holding a bearer token [default: $GENOMENODE_TOKEN].")
]


@case_app.command("analyse")
def analyse(
    ctx: typer.Context,
    vcf: Annotated[
        Path | None, typer.Option("--vcf", help="The family's VCF/BCF (bgzipped or plain), one column per member.")
    ] = None,
    case: Annotated[
        str | None,
        typer.Option("--case", help="A case in the catalog (`case create`), analysed on the national database."),
    ] = None,
    token_file: TokenFile = None,
    hpo: Annotated[
        str, typer.Option("--hpo", help="The proband's HPO terms, comma-separated (HP:0001156,HP:0000486).")
    ] = "",
    ped: Annotated[
        Path | None,
        typer.Option("--ped", help="PED file, or a Phenopacket v2 Family (.json); without it: the proband alone."),
    ] = None,
    proband: Annotated[
        str | None, typer.Option("--proband", help="The index case [default: the affected member of the family].")
    ] = None,
    assembly: Annotated[
        Assembly | None, typer.Option("--assembly", help="GRCh38 or GRCh37 [default: from the VCF's contig lengths].")
    ] = None,
    output_format: Annotated[
        CaseFormat,
        typer.Option(
            "--format", help="tsv (a row per variant), json, or html (a self-contained page to read or print)."
        ),
    ] = CaseFormat.tsv,
    panel: Annotated[
        Path | None, typer.Option("--panel", help="Restrict to a PanelApp gene panel (TSV download or API JSON).")
    ] = None,
    panel_level: Annotated[
        PanelLevel, typer.Option("--panel-level", help="Lowest panel confidence kept.")
    ] = PanelLevel.green,
    min_gq: Annotated[int, typer.Option("--min-gq", help="Genotype quality at least.")] = 20,
    min_dp: Annotated[int, typer.Option("--min-dp", help="Read depth at least.")] = 10,
    max_af_dominant: Annotated[
        float, typer.Option("--max-af-dominant", help="Population frequency cap for de novo and dominant modes.")
    ] = 0.001,
    max_af_recessive: Annotated[
        float, typer.Option("--max-af-recessive", help="Cap for recessive, compound het, X-linked, mitochondrial.")
    ] = 0.01,
) -> None:
    """Rank a family's variants by inheritance, consequence, rarity and phenotype: a VCF with no
    database (--vcf), or a stored case on the national database (--case; the result is stored)."""
    from genomenode.cases.oneshot import analyse_vcf
    from genomenode.interpret.raredisease.inheritance import Mode
    from genomenode.interpret.raredisease.panels import Confidence
    from genomenode.interpret.raredisease.quality import QualityFilter
    from genomenode.interpret.raredisease.scores import RankingOptions

    if (vcf is None) == (case is None):
        err.print("[red]error:[/red] give exactly one of --vcf (a family's VCF) or --case (a stored case)")
        raise typer.Exit(2)
    dominant = (Mode.DE_NOVO, Mode.AUTOSOMAL_DOMINANT)
    caps = {m: (max_af_dominant if m in dominant else max_af_recessive) for m in Mode}
    try:
        if case is not None:
            result = _analyse_stored(
                ctx, case, token_file, QualityFilter(min_gq=min_gq, min_dp=min_dp), RankingOptions(max_af=caps)
            )
        else:
            assert vcf is not None
            result = analyse_vcf(
                vcf,
                ped=ped,
                proband=proband,
                hpo=[t for t in hpo.split(",") if t.strip()],
                assembly=assembly,
                panel=panel,
                panel_confidence=Confidence[panel_level.name.upper()],
                quality=QualityFilter(min_gq=min_gq, min_dp=min_dp),
                ranking=RankingOptions(max_af=caps),
            )
    except GenomenodeError as e:
        fail(e)
    err.print(
        f"{result.proband}: {result.family}, {result.counts['alleles']:,} alleles, "
        f"{result.counts['candidate_genes']} candidate genes"
    )
    if output_format is CaseFormat.html:
        from datetime import UTC, datetime

        from genomenode.cases.knowledge import hpo as load_ontology
        from genomenode.cases.report_html import render_html

        names = load_ontology().names if result.hpo else None
        sys.stdout.write(render_html(result.as_dict(), term_names=names, generated=datetime.now(UTC)))
        return
    if output_format is CaseFormat.json:
        json.dump(result.as_dict(), sys.stdout, indent=1)
        sys.stdout.write("\n")
        return
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    writer.writerow((*TSV_COLUMNS, *TSV_EXTRA))
    for c in result.candidates:
        row = c.as_dict()
        row["reasons"] = "; ".join(c.reasons)
        row["acmg"] = ",".join(k.split(" ", 1)[0] for k in c.acmg)
        row["genotypes"] = ",".join(f"{m}={g}" for m, g in c.genotypes.items())
        row["max_af"] = "" if c.max_af is None else f"{c.max_af:.3g}"
        row["hgvs"] = c.hgvs or ""
        writer.writerow([row[k] for k in (*TSV_COLUMNS, *TSV_EXTRA)])


@case_app.command("example")
def example(
    out: Annotated[Path, typer.Option("--out", help="Folder to write family.vcf.gz, family.ped and hpo.txt into.")],
) -> None:
    """Write a small synthetic trio (a child with Dravet syndrome's features) to try `case analyse` on."""
    from genomenode.cases.knowledge import hpo as load_ontology
    from genomenode.simulate.family import EXAMPLE_DISEASE, write_example
    from genomenode.store.hpo_annotations import annotations_path, load_annotations

    ontology = load_ontology()
    terms = load_annotations(annotations_path()).disease_terms[EXAMPLE_DISEASE]
    phenotype = [t for t in terms if "HP:0000118" in ontology.ancestors(t)][:8]
    vcf, ped, hpo = write_example(out, phenotype)
    err.print(f"wrote {vcf}, {ped} and {hpo} (the child's HPO terms)")


def _analyse_stored(ctx: typer.Context, name: str, token_file: Path | None, quality: Any, ranking: Any) -> Any:
    from genomenode.cases.service import analyse_case
    from genomenode.query.service import NodeQueries

    with _gate(ctx, token_file) as (gate, caller):
        queries = NodeQueries(gate.settings, engine=gate.engine)
        try:
            return analyse_case(gate, queries, caller, name, quality=quality, ranking=ranking)
        finally:
            queries.close()


@contextmanager
def _gate(ctx: typer.Context, token_file: Path | None) -> Iterator[tuple[Any, Any]]:
    """The node's access control and the caller behind the token, as `cli.sharing` reads them."""
    from genomenode.access.gate import AccessControl
    from genomenode.cli.sharing import caller_from_token

    gate = AccessControl(ctx.obj)
    try:
        yield gate, caller_from_token(gate, token_file)
    finally:
        gate.close()


@case_app.command("create")
def create(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option("--dataset", help="The dataset holding the family's samples.")],
    ped: Annotated[
        Path, typer.Option("--ped", help="PED file, or a Phenopacket v2 Family (.json); ids are the samples' names.")
    ],
    hpo: Annotated[str, typer.Option("--hpo", help="The proband's HPO terms, comma-separated.")] = "",
    proband: Annotated[str | None, typer.Option("--proband", help="The index case [default: from the family].")] = None,
    panel: Annotated[Path | None, typer.Option("--panel", help="A PanelApp gene panel (TSV or API JSON).")] = None,
    panel_level: Annotated[
        PanelLevel, typer.Option("--panel-level", help="Lowest panel confidence kept.")
    ] = PanelLevel.green,
    name: Annotated[str | None, typer.Option("--name", help="The case's name [default: generated].")] = None,
    token_file: TokenFile = None,
) -> None:
    """Record a case: a family of samples in the national database, HPO terms and an optional panel."""
    from genomenode.cases.service import create_case
    from genomenode.interpret.raredisease.panels import Confidence

    try:
        with _gate(ctx, token_file) as (gate, caller):
            row = create_case(
                gate,
                caller,
                dataset=dataset,
                family=ped,
                proband=proband,
                hpo=[t for t in hpo.split(",") if t.strip()],
                panel=panel,
                panel_level=Confidence[panel_level.name.upper()],
                name=name,
            )
    except GenomenodeError as e:
        fail(e)
    typer.echo(row.name)
    err.print(f"case {row.name}: {len(row.members)} members, proband {row.proband}, region {row.region}")


@case_app.command("report")
def report(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The case's name.")],
    output_format: Annotated[CaseFormat, typer.Option("--format", help="tsv, json or html.")] = CaseFormat.json,
    token_file: TokenFile = None,
) -> None:
    """The case's latest analysis."""
    from genomenode.cases.service import case_report

    try:
        with _gate(ctx, token_file) as (gate, caller):
            text = case_report(gate, caller, name, output_format.value)
    except GenomenodeError as e:
        fail(e)
    sys.stdout.write(text)


@case_app.command("list")
def list_(ctx: typer.Context, token_file: TokenFile = None) -> None:
    """The cases whose every member you may see, as JSON."""
    from genomenode.cases.service import list_cases

    try:
        with _gate(ctx, token_file) as (gate, caller):
            found = list_cases(gate, caller)
    except GenomenodeError as e:
        fail(e)
    json.dump(found, sys.stdout, indent=1)
    sys.stdout.write("\n")


def install(app: typer.Typer) -> None:
    app.add_typer(case_app, name="case")
