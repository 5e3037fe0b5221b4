"""The `genomenode` command: a thin shell over the pipeline and query services.

stdout carries only the answer (TSV or JSON, for scripts); progress bars and messages go to
stderr. Every error genomenode raises on purpose becomes one line `error: …` and exit status 1.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from genomenode.cli.case import install as install_case
from genomenode.cli.common import progress_bar
from genomenode.cli.export import register as register_export
from genomenode.cli.federation import install as install_federation
from genomenode.cli.pgx import install as install_pgx
from genomenode.cli.sharing import TokenFile, caller_from_token
from genomenode.cli.sharing import install as install_sharing
from genomenode.cli.stats import install as install_stats
from genomenode.domain.assembly import Assembly
from genomenode.domain.variant import parse_region
from genomenode.errors import GenomenodeError
from genomenode.settings import Settings

app = typer.Typer(
    name="genomenode",
    help="A national genome node: ingest regional VCFs, query national allele frequencies, serve the API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


class Format(StrEnum):
    tsv = "tsv"
    json = "json"


class By(StrEnum):
    population = "population"
    sex = "sex"
    centre = "centre"


def _settings(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Node data folder [default: $GENOMENODE_DATA_DIR, then ./genomenode-data]"),
    ] = None,
) -> None:
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    ctx.obj = Settings(**overrides)


def _fail(exc: GenomenodeError) -> None:
    err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@app.command()
def ingest(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="VCF, bgzipped VCF, BCF or gVCF files from one centre.")],
    dataset: Annotated[str, typer.Option(help="Dataset to add the files to (created on first use).")],
    centre: Annotated[str, typer.Option(help="Submitting regional centre.")],
    samples: Annotated[
        Path | None,
        typer.Option("--samples", help="Sample sheet (TSV): sample_id, subject_id, sex, population, centre, consent."),
    ] = None,
    reference: Annotated[
        Path | None, typer.Option(help="Reference FASTA (.fai indexed): checks REF, left-aligns indels.")
    ] = None,
    assembly: Annotated[
        Assembly | None, typer.Option(help="Assembly, when the header's contig lengths do not say.")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Supersede samples already loaded in the dataset.")
    ] = False,
    callable_regions: Annotated[
        Path | None,
        typer.Option("--callable", help="BED of callable regions: outside it, absence is unknown, not hom-ref."),
    ] = None,
    token_file: TokenFile = None,
) -> None:
    """Validate, normalise, pseudonymise and store VCFs: all of them or, on any error, none.

    With a token (a centre submitter's), policy checks the centre; without one, the operator at
    the node's console submits."""
    from genomenode.access import policy
    from genomenode.access.gate import AccessControl
    from genomenode.cli.sharing import local_admin
    from genomenode.errors import AccessDeniedError
    from genomenode.pipeline.ingest import IngestRequest
    from genomenode.pipeline.ingest import ingest as run_ingest

    try:
        gate = AccessControl(_settings(ctx))
        caller = caller_from_token(gate, token_file)
        gate.close()
        caller = local_admin() if caller.anonymous else caller
        decision = policy.may(caller, policy.Action.INGEST, centre=centre)
        if not decision:
            raise AccessDeniedError(decision.reason)
    except GenomenodeError as exc:
        _fail(exc)
        return

    request = IngestRequest(
        files=files,
        dataset=dataset,
        centre=centre,
        sample_sheet=samples,
        reference=reference,
        assembly=assembly,
        replace=replace,
        callable_regions=callable_regions,
        command=shlex.join(["genomenode", *sys.argv[1:]]),
        actor=caller.actor,
        role=caller.role_label,
    )
    try:
        with progress_bar() as update:
            result = run_ingest(_settings(ctx), request, progress=update)
    except GenomenodeError as exc:
        _fail(exc)
        return
    for outcome in result.files:
        if outcome.status == "unchanged":
            typer.echo(f"{outcome.path}: already ingested (same checksum); nothing to do")
        else:
            r = outcome.report
            skipped = sum(r.get("skipped_contigs", {}).values())
            typer.echo(
                f"{outcome.path}: {outcome.samples} samples, {r.get('records', 0)} records, "
                f"{r.get('alleles', 0)} alleles"
                + (f", {r.get('reference_blocks')} reference blocks" if r.get("is_gvcf") else "")
                + (f", {skipped} records on other contigs skipped" if skipped else "")
                + (f", {r['duplicate_alleles']} duplicate alleles skipped" if r.get("duplicate_alleles") else "")
            )
    if result.changed:
        typer.echo(
            f"committed run {result.run_id} to dataset {result.dataset} ({result.assembly}) in {result.seconds:.1f} s"
        )


@app.command()
def frequencies(
    ctx: typer.Context,
    region: Annotated[str | None, typer.Option(help="Region such as chr1:100-2000 (1-based, inclusive).")] = None,
    gene: Annotated[str | None, typer.Option(help="Gene symbol (GENCODE), e.g. CYP2C19.")] = None,
    dataset: Annotated[str | None, typer.Option(help="One dataset instead of the whole nation.")] = None,
    by: Annotated[By | None, typer.Option(help="Stratify by population, sex or centre.")] = None,
    pass_only: Annotated[
        bool, typer.Option("--pass-only", help="Only alleles whose FILTER is PASS in every file.")
    ] = False,
    format: Annotated[Format, typer.Option("--format", help="tsv or json.")] = Format.tsv,
    token_file: TokenFile = None,
) -> None:
    """Allele counts and frequencies, one row per normalised ALT allele (and stratum).

    Small counts are hidden (shown as `.`) unless the caller's token reaches CONTROLLED."""
    from genomenode.query.service import NodeQueries

    try:
        parsed = parse_region(region) if region else None
        with NodeQueries(_settings(ctx)) as q:
            floor = _floor(ctx, q, token_file, dataset)
            answer = q.frequencies(
                region=parsed, gene=gene, dataset=dataset, by=by.value if by else None, pass_only=pass_only, floor=floor
            )
    except GenomenodeError as exc:
        _fail(exc)
        return
    by_name = by.value if by else None
    if format is Format.json:
        doc = answer.as_dict()
        typer.echo(json.dumps(doc, indent=1))
        return
    out = sys.stdout
    header = ["chrom", "pos", "ref", "alt", "ac", "an", "af", "hom", "hemi"] + ([by_name] if by_name else [])
    out.write("\t".join(header) + "\n")
    for r in answer.rows:
        af = "." if r.af is None else f"{r.af:.6g}"
        cells = [r.chrom, str(r.pos), r.ref, r.alt, _n(r.ac), str(r.an), af, _n(r.hom), _n(r.hemi)]
        if by_name:
            cells.append(r.stratum_value or "")
        out.write("\t".join(cells) + "\n")


@app.command()
def variant(
    ctx: typer.Context,
    variant_id: Annotated[str, typer.Argument(metavar="VARIANT", help="chr10:94781859:G:A (or chr10-94781859-G-A).")],
    dataset: Annotated[str | None, typer.Option(help="One dataset instead of the whole nation.")] = None,
    format: Annotated[Format, typer.Option("--format", help="json (tsv prints the overall row).")] = Format.json,
    token_file: TokenFile = None,
) -> None:
    """Everything the node knows about one variant: counts nation-wide, per dataset and per stratum."""
    from genomenode.query.service import NodeQueries

    try:
        with NodeQueries(_settings(ctx)) as q:
            doc = q.variant(variant_id, dataset=dataset, floor=_floor(ctx, q, token_file, dataset))
    except GenomenodeError as exc:
        _fail(exc)
        return
    if format is Format.json:
        typer.echo(json.dumps(doc, indent=1))
    else:
        cols = ["chrom", "pos", "ref", "alt", "ac", "an", "af", "hom", "hemi"]
        typer.echo("\t".join(cols))
        typer.echo("\t".join(_n(doc[c]) for c in cols))


@app.command()
def datasets(ctx: typer.Context) -> None:
    """The datasets this node holds, with their assembly, samples, files and centres."""
    from genomenode.query.service import NodeQueries

    try:
        with NodeQueries(_settings(ctx)) as q:
            rows = q.datasets()
    except GenomenodeError as exc:
        _fail(exc)
        return
    typer.echo("name\tassembly\tsamples\tfiles\tcentres")
    for d in rows:
        typer.echo(f"{d.name}\t{d.assembly}\t{d.n_samples}\t{d.n_files}\t{','.join(d.centres)}")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes sharing the port (one per core serves the most requests; the "
            "Beacon budget and the audit log are shared through the catalog and a file lock, the "
            "Beacon rate limit is counted per process).",
        ),
    ] = 1,
) -> None:
    """Serve the web portal at / and the HTTP API (OpenAPI docs at /docs)."""

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from genomenode.web.app import create_app

    settings = _settings(ctx)
    err.print(
        f"genomenode portal on http://{host}:{port}/  (API docs: http://{host}:{port}/docs, data: {settings.data_dir})"
    )
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        return
    # each worker process builds its app from the environment: hand it the settings given here
    os.environ["GENOMENODE_DATA_DIR"] = str(settings.data_dir)
    create_app(settings)  # refuse unsafe settings or a bad peers file here, before forking
    config = uvicorn.Config(
        "genomenode.web.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info"
    )
    Multiprocess(config, sockets=[_listening_socket(host, port)]).run()


def _listening_socket(host: str, port: int) -> socket.socket:
    """The socket the workers share, made as uvicorn's own `bind_socket` does but with its protocol
    named: asyncio sets TCP_NODELAY only on connections accepted from a socket whose `proto` is
    IPPROTO_TCP, and uvicorn's has 0, so every keep-alive answer waited ~40 ms for a delayed ACK
    (measured: /health 44 ms with `--workers 2`, 1.5 ms with one process)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise typer.BadParameter(f"cannot listen on {host}:{port}: {e.strerror}") from None
    sock.set_inheritable(True)
    return sock


@app.command()
def demo(
    ctx: typer.Context,
    individuals: Annotated[int, typer.Option(min=10, help="People in the synthetic national cohort.")] = 600,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same cohort.")] = 7,
) -> None:
    """Generate a synthetic national cohort (msprime), ingest it centre by centre with a rare-disease
    family per clinician's region (opened as an analysed case), and add one user per role; prints a
    token for each."""
    from genomenode.access.gate import AccessControl
    from genomenode.cases.demo import add_demo_cases
    from genomenode.simulate.national import build_demo_node

    settings = _settings(ctx)
    try:
        with progress_bar() as update:
            node = build_demo_node(settings, individuals=individuals, seed=seed, progress=update)
        add_demo_cases(settings, node.families)
        gate = AccessControl(settings)
        tokens = {user: gate.issue_token(issuer=settings.public_url, subject=user) for user in node.users}
        gate.close()
    except GenomenodeError as exc:
        _fail(exc)
        return
    typer.echo(f"synthetic cohort of {individuals} people (seed {seed}) ingested into {settings.data_dir}")
    typer.echo(f"try: genomenode --data-dir {settings.data_dir} frequencies --gene CYP2C19 --by population")
    typer.echo(f"     genomenode --data-dir {settings.data_dir} pgx-summary --format tsv")
    typer.echo(
        f"tokens ({settings.token_lifetime_minutes} min), one per demo role: paste one into the portal's "
        "Sign in page, or send it as Authorization: Bearer …"
    )
    for user, token in tokens.items():
        typer.echo(f"{user}\t{token}")


def _n(value: object) -> str:
    """A count as TSV shows it: `.` when hidden from this caller."""
    return "." if value is None else str(value)


def _floor(ctx: typer.Context, q: Any, token_file: Path | None, dataset: str | None) -> int | None:
    """The caller's small-count floor, decided by the same policy as the API."""
    from genomenode.access.gate import AccessControl

    gate = AccessControl(_settings(ctx), engine=q.engine)
    return gate.floor_for(caller_from_token(gate, token_file), dataset)


install_sharing(app)
install_federation(app)
install_case(app)
install_pgx(app)
install_stats(app)
register_export(app)


def run() -> None:
    app()
