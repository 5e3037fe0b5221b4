"""`genomenode pgx` and `genomenode pgx-summary`: pharmacogenomic calls for one person, and how
common each phenotype is across the database.

`pgx --vcf FILE` needs no database. `pgx SAMPLE_ID` reads a stored sample as the caller behind
$GENOMENODE_TOKEN or --token-file (a clinician of the person's region, or a steward); without a
token, the node's operator at the console (pgx.service decides and audits).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from genomenode.cli.sharing import fail
from genomenode.errors import GenomenodeError

err = Console(stderr=True)

TokenFile = Annotated[
    Path | None, typer.Option("--token-file", help="File holding a bearer token [default: $GENOMENODE_TOKEN].")
]


class PgxFormat(StrEnum):
    json = "json"
    html = "html"


class SummaryFormat(StrEnum):
    json = "json"
    tsv = "tsv"


def pgx(
    ctx: typer.Context,
    sample_id: Annotated[
        str | None, typer.Argument(help="A stored sample (as its centre named it) or a person's pseudonym.")
    ] = None,
    vcf: Annotated[Path | None, typer.Option("--vcf", help="Call from this VCF/BCF instead (no database).")] = None,
    sample: Annotated[
        str | None, typer.Option("--sample", help="With --vcf: the sample column [default: the only one].")
    ] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="With SAMPLE_ID: the dataset, when the name is in several.")
    ] = None,
    outside_call: Annotated[
        Path | None,
        typer.Option(
            "--outside-call", help="PharmCAT outside-call TSV (gene, diplotype, phenotype, activity score): CYP2D6."
        ),
    ] = None,
    output_format: Annotated[
        PgxFormat, typer.Option("--format", help="json (the report object) or html (a page to read or print).")
    ] = PgxFormat.json,
    token_file: TokenFile = None,
) -> None:
    """Star-allele diplotypes, phenotypes and CPIC recommendations for one person (PharmCAT's method)."""
    from genomenode.ingest.outside_calls import read_outside_calls

    if (vcf is None) == (sample_id is None):
        err.print("[red]error:[/red] give a SAMPLE_ID (national database) or --vcf FILE, not both or neither")
        raise typer.Exit(2)
    try:
        outside = read_outside_calls(outside_call) if outside_call is not None else []
        if vcf is not None:
            from genomenode.pgx.oneshot import pgx_for_vcf

            report = pgx_for_vcf(vcf, sample=sample, outside_calls=outside)
        else:
            assert sample_id is not None
            report = _stored(ctx, sample_id, dataset, outside, token_file)
    except GenomenodeError as e:
        fail(e)
        return
    called = sum(bool(g["diplotypes"]) for g in report["genes"].values())
    err.print(
        f"{report['sample']}: {called}/{len(report['genes'])} genes called, "
        f"{len(report['recommendations'])} drug recommendations"
        + ("" if report["complete"] else " (incomplete: see warnings)")
    )
    if output_format is PgxFormat.html:
        from datetime import UTC, datetime

        from genomenode.pgx.report_html import render_html

        sys.stdout.write(render_html(report, generated=datetime.now(UTC)))
        return
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")


def _stored(ctx: typer.Context, sample_id: str, dataset: str | None, outside: Any, token_file: Path | None) -> Any:
    from genomenode.access.gate import AccessControl
    from genomenode.cli.sharing import caller_from_token, local_admin
    from genomenode.pgx.service import pgx_for_stored
    from genomenode.query.service import NodeQueries

    gate = AccessControl(ctx.obj)
    try:
        caller = caller_from_token(gate, token_file)
        console = caller.anonymous
        queries = NodeQueries(gate.settings, engine=gate.engine)
        try:
            return pgx_for_stored(
                gate,
                queries,
                local_admin() if console else caller,
                sample_id,
                dataset=dataset,
                outside_calls=outside,
                console=console,
            )
        finally:
            queries.close()
    finally:
        gate.close()


def pgx_summary(
    ctx: typer.Context,
    dataset: Annotated[str | None, typer.Option("--dataset", help="One dataset [default: the whole node].")] = None,
    output_format: Annotated[
        SummaryFormat, typer.Option("--format", help="json, or tsv (gene, stratum, value, phenotype, count, ...).")
    ] = SummaryFormat.tsv,
    token_file: TokenFile = None,
) -> None:
    """How common each PGx phenotype is, nation-wide and per region and population; small counts
    hidden unless the caller may see individuals (a steward)."""
    from genomenode.access.gate import AccessControl
    from genomenode.cli.sharing import caller_from_token
    from genomenode.pgx.service import pgx_summary as summarise
    from genomenode.query.service import NodeQueries

    try:
        gate = AccessControl(ctx.obj)
        try:
            caller = caller_from_token(gate, token_file)
            queries = NodeQueries(gate.settings, engine=gate.engine)
            try:
                with err.status("calling every person's PGx genes ..."):
                    result = summarise(gate, queries, caller, dataset=dataset)
            finally:
                queries.close()
        finally:
            gate.close()
    except GenomenodeError as e:
        fail(e)
        return
    err.print(f"{result['people']} people; {result['suppressed_cells']} small cells hidden")
    if output_format is SummaryFormat.json:
        json.dump(result, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return
    out = sys.stdout
    out.write("gene\tstratum\tvalue\tphenotype\tcount\tpeople\tfrequency\n")
    for gene, table in result["genes"].items():
        for group in table["groups"]:
            for phenotype, count in group["counts"].items():
                freq = group["frequencies"][phenotype]
                row = (gene, group["stratum"], group["value"], phenotype, _n(count), _n(group["people"]), _n(freq))
                out.write("\t".join(row) + "\n")


def pgx_calls(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="The Parquet file to write (one row per person and gene).")],
    dataset: Annotated[str | None, typer.Option("--dataset", help="One dataset [default: the whole node].")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    token_file: TokenFile = None,
) -> None:
    """Every person's PGx calls (diplotype, phenotype, activity score per gene), by pseudonym: a data
    steward's batch job (or the operator's at the console); on Spark with GENOMENODE_ENGINE=spark."""
    import pyarrow.parquet as pq

    from genomenode.access.gate import AccessControl
    from genomenode.cli.common import progress_bar
    from genomenode.cli.sharing import caller_from_token
    from genomenode.errors import InputError
    from genomenode.pgx.service import pgx_calls as call_everyone
    from genomenode.query.service import NodeQueries

    try:
        if out.exists() and not force:
            raise InputError(f"{out} exists; pass --force to replace it")
        if not out.parent.is_dir():
            raise InputError(f"{out}: the folder {out.parent} does not exist")
        gate = AccessControl(ctx.obj)
        try:
            caller = caller_from_token(gate, token_file)
            queries = NodeQueries(gate.settings, engine=gate.engine)
            try:
                with progress_bar() as update:
                    table = call_everyone(
                        gate, queries, caller, dataset=dataset, console=caller.anonymous, progress=update
                    )
            finally:
                queries.close()
        finally:
            gate.close()
        partial = out.with_name(f".{out.name}.partial")
        pq.write_table(table, partial)
        partial.replace(out)  # whole or not at all
    except GenomenodeError as e:
        fail(e)
        return
    people = len(set(table["individual"].to_pylist()))
    err.print(f"{people} people x {len(set(table['gene'].to_pylist()))} genes -> {out}")


def _n(value: object) -> str:
    return "." if value is None else str(value)


def install(app: typer.Typer) -> None:
    app.command("pgx")(pgx)
    app.command("pgx-summary")(pgx_summary)
    app.command("pgx-calls")(pgx_calls)
