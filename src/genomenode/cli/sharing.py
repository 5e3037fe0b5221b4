"""CLI commands for secure sharing: users, tokens, keys, projects, grants, consent, audit, share.

Who is calling: a bearer token from `$GENOMENODE_TOKEN` or `--token-file`, verified exactly as
the API verifies it, and the same policy decides. Three bootstrap commands need no token because
they need the node's secrets on disk, which is the embedded issuer's root of trust: `keys init`,
`users add` (and `users list`), and `token issue`. There is no flag that skips a check.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from genomenode.access import policy
from genomenode.access.gate import AccessControl
from genomenode.errors import AuthenticationError, GenomenodeError
from genomenode.settings import Settings

users_app = typer.Typer(help="People the node knows, with their roles (node administrator).", no_args_is_help=True)
token_app = typer.Typer(help="Tokens signed by this node for its users.", no_args_is_help=True)
keys_app = typer.Typer(help="The node's keys (pseudonyms, token signing, archive).", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
project_app = typer.Typer(help="Research projects and their members (data steward).", no_args_is_help=True)
grant_app = typer.Typer(help="Dataset grants to projects (data steward).", no_args_is_help=True)
consent_app = typer.Typer(help="Recorded consent per person (data steward).", no_args_is_help=True)
dataset_app = typer.Typer(help="Dataset security levels and data-use conditions.", no_args_is_help=True)

TokenFile = Annotated[
    Path | None, typer.Option("--token-file", help="File holding a bearer token [default: $GENOMENODE_TOKEN].")
]


def _settings(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


def _gate(ctx: typer.Context) -> AccessControl:
    return AccessControl(_settings(ctx))


def local_admin() -> policy.Caller:
    """The operator at the node's console: holds the secrets, so acts as node administrator."""
    return policy.Caller(issuer="local", subject=f"cli:{getpass.getuser()}", roles=frozenset({policy.Role.ADMIN}))


def caller_from_token(gate: AccessControl, token_file: Path | None) -> policy.Caller:
    """The caller behind $GENOMENODE_TOKEN or --token-file; neither means the anonymous public."""
    token = token_file.read_text().strip() if token_file else os.environ.get("GENOMENODE_TOKEN", "").strip()
    return gate.caller_for_token(token) if token else policy.ANONYMOUS


def _require_token(gate: AccessControl, token_file: Path | None) -> policy.Caller:
    caller = caller_from_token(gate, token_file)
    if caller.anonymous:
        raise AuthenticationError("this command needs a token: set $GENOMENODE_TOKEN or pass --token-file")
    return caller


def fail(exc: GenomenodeError) -> None:
    from genomenode.cli.main import err

    err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(1)


# -- keys, users, tokens (bootstrap) ----------------------------------------------------------
@keys_app.command("init")
def keys_init(ctx: typer.Context) -> None:
    """Create any missing key (0600, in a 0700 folder); existing keys are never replaced."""
    from genomenode.access.crypt import load_or_create_archive_keys
    from genomenode.access.node_issuer import load_or_create_signing_key
    from genomenode.access.pseudonym import load_or_create_key

    settings = _settings(ctx)
    try:
        load_or_create_key(settings.pseudonym_key_path)
        load_or_create_signing_key(settings.signing_key_path)
        load_or_create_archive_keys(*settings.crypt4gh_key_paths)
    except GenomenodeError as exc:
        fail(exc)
    typer.echo(f"keys ready in {settings.secrets_root}")


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    subject: Annotated[str, typer.Argument(help="The user's id (the token's sub).")],
    role: Annotated[list[policy.Role], typer.Option("--role", help="A role; repeat for several.")],
    region: Annotated[str | None, typer.Option(help="Healthcare region (clinicians).")] = None,
    centre: Annotated[str | None, typer.Option(help="Centre (submitters).")] = None,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    issuer: Annotated[str | None, typer.Option(help="Issuer of their tokens [default: this node].")] = None,
) -> None:
    """Add or update a user; roles, region and centre replace what was there."""
    from genomenode.catalog import sharing

    try:
        if policy.Role.PEER in role:
            raise GenomenodeError("peer is the role of another node, named in GENOMENODE_PEERS_FILE, not of a user")
        if policy.Role.CLINICIAN in role and not region:
            raise GenomenodeError("a clinician is bound to a region: pass --region")
        if policy.Role.SUBMITTER in role and not centre:
            raise GenomenodeError("a submitter is bound to a centre: pass --centre")
        gate = _gate(ctx)
        iss = issuer or gate.settings.public_url
        gate.record(local_admin(), "user.set", target=f"{iss}|{subject}", outcome="done", roles=",".join(role))
        with gate.Session() as s, s.begin():
            sharing.upsert_user(
                s, issuer=iss, subject=subject, roles=[r.value for r in role], name=name, region=region, centre=centre
            )
    except GenomenodeError as exc:
        fail(exc)
    typer.echo(f"user {subject}: {', '.join(r.value for r in role)}")


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    from genomenode.catalog import sharing

    gate = _gate(ctx)
    with gate.Session() as s:
        typer.echo("issuer\tsubject\troles\tregion\tcentre\tactive")
        for u in sharing.list_users(s):
            typer.echo(f"{u.issuer}\t{u.subject}\t{u.roles}\t{u.region or ''}\t{u.centre or ''}\t{u.active}")


@token_app.command("issue")
def token_issue(
    ctx: typer.Context, user: Annotated[str, typer.Option("--user", help="A user added with `users add`.")]
) -> None:
    """Print a token for USER, signed with the node's key (lifetime: GENOMENODE_TOKEN_LIFETIME_MINUTES)."""
    try:
        gate = _gate(ctx)
        token = gate.issue_token(issuer=gate.settings.public_url, subject=user)
        gate.record(local_admin(), "token.issue", target=user, outcome="done")
    except GenomenodeError as exc:
        fail(exc)
        return
    typer.echo(token)


# -- audit ------------------------------------------------------------------------------------
@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Check every entry's hash and link; name the first altered, removed or reordered one."""
    try:
        report = _gate(ctx).audit_log.verify()
    except GenomenodeError as exc:
        fail(exc)
        return
    typer.echo(f"audit log intact: {report.entries} entries, last hash {report.last_hash}")


@audit_app.command("export")
def audit_export(
    ctx: typer.Context,
    token_file: TokenFile = None,
    since: Annotated[datetime | None, typer.Option(help="From this time (ISO 8601).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Before this time.")] = None,
    action: Annotated[list[str] | None, typer.Option(help="Only this action; repeat for several.")] = None,
) -> None:
    """The audit entries as JSON Lines, for the data steward."""
    try:
        gate = _gate(ctx)
        caller = _require_token(gate, token_file)
        decision = policy.may(caller, policy.Action.READ_AUDIT)
        if not decision:
            from genomenode.errors import AccessDeniedError

            raise AccessDeniedError(decision.reason)
        gate.record(caller, "audit.export", target="audit", outcome="done")
        for entry in gate.audit_log.export(since=since, until=until, actions=action):
            sys.stdout.write(json.dumps(entry, ensure_ascii=False) + "\n")
    except GenomenodeError as exc:
        fail(exc)


# -- steward acts -----------------------------------------------------------------------------
@project_app.command("create")
def project_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Project name.")],
    purpose: Annotated[
        str, typer.Option(help='Purpose as JSON, e.g. {"purpose": "DS", "diseases": ["MONDO:0005148"]}.')
    ],
    token_file: TokenFile = None,
) -> None:
    from genomenode.access import stewardship

    try:
        gate = _gate(ctx)
        stewardship.create_project(gate, _require_token(gate, token_file), name=name, purpose=json.loads(purpose))
    except json.JSONDecodeError as exc:
        fail(GenomenodeError(f"--purpose is not JSON: {exc}"))
    except GenomenodeError as exc:
        fail(exc)
    typer.echo(f"project {name} created")


@project_app.command("add-member")
def project_add_member(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument()],
    subject: Annotated[str, typer.Argument(help="A user with the researcher role.")],
    token_file: TokenFile = None,
) -> None:
    from genomenode.access import stewardship

    try:
        gate = _gate(ctx)
        stewardship.add_member(gate, _require_token(gate, token_file), project=project, subject=subject)
    except GenomenodeError as exc:
        fail(exc)
    typer.echo(f"{subject} is a member of {project}")


@grant_app.command("add")
def grant_add(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument()],
    dataset: Annotated[str, typer.Argument()],
    token_file: TokenFile = None,
) -> None:
    from genomenode.access import stewardship

    try:
        gate = _gate(ctx)
        detail = stewardship.grant(gate, _require_token(gate, token_file), project=project, dataset=dataset)
    except GenomenodeError as exc:
        fail(exc)
        return
    typer.echo(
        f"granted {dataset} to {project}: {detail['people']} people, "
        f"{detail['people_not_covered']} whose consent does not cover the purpose (never shown to the project)"
    )


@grant_app.command("revoke")
def grant_revoke(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument()],
    dataset: Annotated[str, typer.Argument()],
    token_file: TokenFile = None,
) -> None:
    from genomenode.access import stewardship

    try:
        gate = _gate(ctx)
        n = stewardship.revoke(gate, _require_token(gate, token_file), project=project, dataset=dataset)
    except GenomenodeError as exc:
        fail(exc)
        return
    typer.echo(f"revoked {n} grant(s) of {dataset} to {project}")


@consent_app.command("give")
def consent_give(
    ctx: typer.Context,
    individual: Annotated[str, typer.Argument(help="The person's node pseudonym.")],
    codes: Annotated[list[str], typer.Option("--code", help="A DUO code (GRU, HMB, DS:MONDO:..., IRB...); repeat.")],
    source: Annotated[str, typer.Option(help="Where the consent was recorded.")] = "",
    token_file: TokenFile = None,
) -> None:
    from genomenode.pipeline import consent

    try:
        gate = _gate(ctx)
        consent.give(gate, _require_token(gate, token_file), individual, codes=codes, source=source)
    except GenomenodeError as exc:
        fail(exc)
    typer.echo(f"consent recorded for {individual}: {';'.join(codes)}")


@consent_app.command("withdraw")
def consent_withdraw(
    ctx: typer.Context,
    individual: Annotated[str, typer.Argument(help="The person's node pseudonym.")],
    source: Annotated[str, typer.Option(help="Where the withdrawal was recorded.")] = "",
    token_file: TokenFile = None,
) -> None:
    """Withdraw consent: every research answer and aggregate leaves the person out from now on."""
    from genomenode.pipeline import consent

    try:
        gate = _gate(ctx)
        consent.withdraw(gate, _require_token(gate, token_file), individual, source=source)
    except GenomenodeError as exc:
        fail(exc)
    typer.echo(f"consent withdrawn for {individual}; statistics updated")


@dataset_app.command("policy")
def dataset_policy(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    level: Annotated[str | None, typer.Option(help="PUBLIC, REGISTERED or CONTROLLED.")] = None,
    data_use: Annotated[list[str] | None, typer.Option("--data-use", help="A DUO code; repeat.")] = None,
    token_file: TokenFile = None,
) -> None:
    """Set a dataset's security level and data-use conditions."""
    from genomenode.access import stewardship

    try:
        gate = _gate(ctx)
        stewardship.set_dataset_policy(
            gate, _require_token(gate, token_file), dataset=name, level=level, data_use=data_use
        )
    except GenomenodeError as exc:
        fail(exc)
    typer.echo(f"dataset {name} updated")


def share(
    ctx: typer.Context,
    file_id: Annotated[int, typer.Argument(metavar="FILE_ID", help="Catalog id of a submitted file.")],
    recipient_key: Annotated[
        Path, typer.Option("--recipient-key", help="The recipient's Crypt4GH (or ssh-ed25519) public key.")
    ],
    out: Annotated[Path | None, typer.Option(help="Where to write [default: <file>.<recipient>.c4gh here].")] = None,
    token_file: TokenFile = None,
) -> None:
    """Re-encrypt an archived file's header for a recipient; the payload is never decrypted."""
    from genomenode.access.crypt import load_or_create_archive_keys, read_public_key, share_file
    from genomenode.catalog.models import ArchivedFile
    from genomenode.errors import AccessDeniedError, NotFoundError

    try:
        gate = _gate(ctx)
        caller = _require_token(gate, token_file)
        decision = policy.may(caller, policy.Action.SHARE)
        if not decision:
            raise AccessDeniedError(decision.reason)
        recipient = read_public_key(recipient_key)
        with gate.Session() as s:
            row = s.get(ArchivedFile, file_id)
            if row is None:
                raise NotFoundError(f"no archived file {file_id}; `genomenode datasets` lists what is held")
            archived = gate.settings.archive_root / row.path
        keys = load_or_create_archive_keys(*gate.settings.crypt4gh_key_paths)
        from genomenode.access.crypt import key_fingerprint

        target = out or Path(f"{archived.name.removesuffix('.c4gh')}.{key_fingerprint(recipient)}.c4gh")
        gate.record(caller, "share", target=str(file_id), outcome="done", recipient=key_fingerprint(recipient))
        shared = share_file(archived, target, keys, recipient)
    except GenomenodeError as exc:
        fail(exc)
        return
    typer.echo(f"{shared.path}: {shared.encrypted_bytes} bytes for recipient {shared.recipient_fingerprint}")


def erase(
    ctx: typer.Context,
    individual: Annotated[str, typer.Argument(help="The person's node pseudonym.")],
    token_file: TokenFile = None,
) -> None:
    """Erase a person: genotypes out of the store, the archive and the catalog; the audit keeps that it happened."""
    from genomenode.pipeline import erasure

    try:
        gate = _gate(ctx)
        detail = erasure.erase(gate, _require_token(gate, token_file), individual)
    except GenomenodeError as exc:
        fail(exc)
        return
    typer.echo(f"erased {individual}: {detail['samples']} sample(s)")


def individuals(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option(help="Act for this project (ids are its pseudonyms).")] = None,
    token_file: TokenFile = None,
) -> None:
    """The people your token lets you see: your region's patients, a project's consented people."""
    try:
        gate = _gate(ctx)
        caller = _require_token(gate, token_file)
        people = gate.individuals(caller, project=project)
        gate.record(caller, "read.individuals", target=project or "node", count=len(people))
    except GenomenodeError as exc:
        fail(exc)
        return
    typer.echo("id\tsex\tregions\tconsent")
    for p in people:
        consent = ";".join(p.row.consent_codes or ()) if p.row.consent_status == "given" else p.row.consent_status or ""
        typer.echo(f"{p.id}\t{p.row.sex}\t{','.join(sorted(p.row.regions))}\t{consent}")


def genotypes(
    ctx: typer.Context,
    individual: Annotated[str, typer.Argument(help="A person's id as `genomenode individuals` lists it.")],
    region: Annotated[str | None, typer.Option(help="Region such as chr10:94700000-94900000.")] = None,
    gene: Annotated[str | None, typer.Option(help="Gene symbol, e.g. CYP2C19.")] = None,
    project: Annotated[str | None, typer.Option(help="Act for this project.")] = None,
    token_file: TokenFile = None,
) -> None:
    """A person's stored non-reference and missing calls (TSV), if policy lets you see them."""
    from genomenode.domain.variant import parse_region
    from genomenode.errors import InputError
    from genomenode.query.service import NodeQueries

    try:
        if (region is None) == (gene is None):
            raise InputError("give exactly one of --region or --gene")
        gate = _gate(ctx)
        caller = _require_token(gate, token_file)
        person = gate.individual(caller, individual, project=project)
        with NodeQueries(gate.settings, engine=gate.engine) as q:
            assemblies = {d.name: d.assembly for d in q.datasets()}
            [assembly] = {assemblies[d] for _, d, _ in person.row.samples}
            where = parse_region(region) if region else q.gene_region(assembly, gene or "")
            gate.record(caller, "read.genotypes", target=person.row.pseudonym, region=str(where), project=project)
            calls = q.genotypes(
                assembly=assembly,
                region=where,
                samples={code: person.id if project else name for code, _, name in person.row.samples},
            )
    except GenomenodeError as exc:
        fail(exc)
        return
    typer.echo("sample\tchrom\tpos\tref\talt\tgenotype\tdp\tgq")
    for c in calls:
        dp, gq = ("." if v is None else str(v) for v in (c["dp"], c["gq"]))
        typer.echo(f"{c['sample']}\t{c['chrom']}\t{c['pos']}\t{c['ref']}\t{c['alt']}\t{c['genotype']}\t{dp}\t{gq}")


def install(app: typer.Typer) -> None:
    app.command("individuals")(individuals)
    app.command("genotypes")(genotypes)
    app.command("share")(share)
    app.command("erase")(erase)
    app.add_typer(keys_app, name="keys")
    app.add_typer(users_app, name="users")
    app.add_typer(token_app, name="token")
    app.add_typer(audit_app, name="audit")
    app.add_typer(project_app, name="project")
    app.add_typer(grant_app, name="grant")
    app.add_typer(consent_app, name="consent")
    app.add_typer(dataset_app, name="dataset")
