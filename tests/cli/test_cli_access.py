"""The CLI under the same policy as the API: every role × every command × own and other object.

The command table is checked against the CLI's commands, so a new command without a row fails.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from genomenode.access.crypt import encode_public_key, load_or_create_archive_keys
from genomenode.cli.main import app
from tests.secure_node import Person, SecureNode, add_analysed_cases, build_secure_node

ROLES = (None, "steward", "admin", "clinician-stockholm", "researcher", "registered", "submitter-stockholm")
PROJECT = "hmb-cohort-study"
_counter = itertools.count()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> SecureNode:
    node = build_secure_node(tmp_path_factory.mktemp("cli-access") / "node", individuals=40, seed=4)
    add_analysed_cases(node, node.settings.data_dir / "case-peds")  # case-stockholm, case-skane
    return node


def _case_ped(node: SecureNode, p: Person) -> str:
    """The singleton PED (the person's sample) add_analysed_cases wrote for the person's region."""
    return str(node.settings.data_dir / "case-peds" / f"{p.region}.ped")


def _id(person: Person, user: str | None) -> str:
    return person.project_id if user == "researcher" else person.pseudonym


def _project(user: str | None) -> list[str]:
    return ["--project", PROJECT] if user == "researcher" else []


Args = Callable[[SecureNode, Person, str | None, Path], list[str]]


def _recipient(node: SecureNode, p: Person, u: str | None, tmp: Path) -> list[str]:
    keys = load_or_create_archive_keys(tmp / "r.sec", tmp / "r.pub")
    (tmp / "recipient.pub").write_bytes(encode_public_key(keys.public))
    return ["share", "1", "--recipient-key", str(tmp / "recipient.pub"), "--out", str(tmp / "out.c4gh")]


def _ingest_again(node: SecureNode, p: Person, u: str | None, tmp: Path) -> list[str]:
    centre = "stockholm" if p.region == "stockholm" else "skane"
    vcf = node.settings.data_dir / "demo-submissions" / f"{centre}.vcf.gz"
    return ["ingest", str(vcf), "--dataset", "national-demo", "--centre", centre]


# commands that act for someone: (arguments, who may) — "public", "token" or a set of users
GATED: dict[str, tuple[Args, str | frozenset[str]]] = {
    "frequencies": (lambda n, p, u, t: ["frequencies", "--gene", "CYP2C19"], "public"),
    "variant": (lambda n, p, u, t: ["variant", "chr10:94781859:G:A"], "public"),
    "individuals": (lambda n, p, u, t: ["individuals", *_project(u)], "token"),
    "genotypes": (lambda n, p, u, t: ["genotypes", _id(p, u), "--gene", "CYP2C19", *_project(u)], "individual"),
    "audit export": (lambda n, p, u, t: ["audit", "export"], frozenset({"steward"})),
    "project create": (
        lambda n, p, u, t: ["project", "create", f"c{next(_counter)}", "--purpose", '{"purpose": "HMB"}'],
        frozenset({"steward"}),
    ),
    "project add-member": (lambda n, p, u, t: ["project", "add-member", PROJECT, "researcher"], frozenset({"steward"})),
    "grant add": (lambda n, p, u, t: ["grant", "add", PROJECT, "national-demo"], frozenset({"steward"})),
    "grant revoke": (lambda n, p, u, t: ["grant", "revoke", "no-such-project", "national-demo"], frozenset()),
    "consent give": (lambda n, p, u, t: ["consent", "give", p.pseudonym, "--code", "HMB"], frozenset({"steward"})),
    "consent withdraw": (lambda n, p, u, t: ["consent", "withdraw", n.spare[0].pseudonym], frozenset({"steward"})),
    "dataset policy": (
        lambda n, p, u, t: ["dataset", "policy", "national-demo", "--level", "CONTROLLED"],
        frozenset({"steward"}),
    ),
    "share": (_recipient, frozenset({"steward"})),
    "erase": (lambda n, p, u, t: ["erase", n.spare[1 if p is n.stockholm else 2].pseudonym], frozenset({"steward"})),
    "ingest": (_ingest_again, "ingest"),
    # a stored case: only for callers who may see every member (the case-<region> cases are singletons)
    "case create": (
        lambda n, p, u, t: ["case", "create", "--dataset", "national-demo", "--ped", _case_ped(n, p),
                            "--name", f"cli-{next(_counter)}"],
        "case",
    ),
    "case analyse": (lambda n, p, u, t: ["case", "analyse", "--case", f"case-{p.region}"], "case"),
    "case report": (lambda n, p, u, t: ["case", "report", f"case-{p.region}", "--format", "json"], "case"),
    "case list": (lambda n, p, u, t: ["case", "list"], "token"),
    # a person's PGx report is care: a clinician of the region or a steward (without a token: the console)
    "pgx": (lambda n, p, u, t: ["pgx", p.pseudonym, "--format", "json"], "care"),
    "pgx-summary": (lambda n, p, u, t: ["pgx-summary", "--format", "json"], "public"),
    # individual-level batch outputs: a data steward's, or the operator's at the console
    "pgx-calls": (lambda n, p, u, t: ["pgx-calls", "--out", str(t / "calls.parquet")], "steward or console"),
    "export genotypes": (
        lambda n, p, u, t: ["export", "genotypes", "--dataset", "national-demo", "--out", str(t / "cohort")],
        "steward or console",
    ),
    "export frequencies": (
        lambda n, p, u, t: ["export", "frequencies", "--out", str(t / "release.vcf.gz")],
        "steward or console",
    ),
}  # fmt: skip
# commands that need the node's secrets on disk instead of a token (the embedded issuer's root of
# trust), or that only describe the node: run by the operator at its console
LOCAL = {
    *("keys init", "users add", "users list", "token issue", "audit verify", "datasets", "serve", "demo"),
    "federation demo",  # builds and serves three demo nodes of its own (tests/federation runs it)
    "case example",  # writes an example family for `case analyse --vcf` (tests/cases), never the node's
    "stats check",  # recomputes the statistics from the parts and compares; reads no person, answers nothing
}


def _commands(group: Any, prefix: str = "") -> set[str]:
    """Every leaf command, sub-commands as 'group name' (typer's groups have `.commands`)."""
    out: set[str] = set()
    for name, command in group.commands.items():
        full = f"{prefix}{name}"
        if hasattr(command, "commands"):
            out |= _commands(command, f"{full} ")
        else:
            out.add(full)
    return out


def test_cli_matrix__every_command_is_in_the_table() -> None:
    group = typer.main.get_command(app)
    assert _commands(group) == set(GATED) | LOCAL


def _expected(command: str, who: str | frozenset[str], user: str | None, own: bool) -> int:
    if who == "public":
        return 0
    if user is None:  # no token: the operator at the console
        return 0 if command in ("ingest", "pgx") or who == "steward or console" else 1
    if who == "steward or console":
        return 0 if user == "steward" else 1
    if who == "token":
        return 0
    if who in ("case", "care"):
        return 0 if user == "steward" or (user == "clinician-stockholm" and own) else 1
    if who == "individual":
        return 0 if user == "steward" or (user in ("clinician-stockholm", "researcher") and own) else 1
    if who == "ingest":
        return 0 if user in ("submitter-stockholm", "admin") and (own or user == "admin") else 1
    assert isinstance(who, frozenset)
    return 0 if user in who else 1


@pytest.mark.parametrize("command", sorted(GATED))
@pytest.mark.parametrize("user", ROLES, ids=lambda u: u or "anonymous")
@pytest.mark.parametrize("own", [True, False], ids=["own", "other"])
def test_cli_matrix__role_command_and_object(
    node: SecureNode, command: str, user: str | None, own: bool, tmp_path: Path
) -> None:
    args, who = GATED[command]
    person = node.stockholm if own else (node.not_covered if user == "researcher" else node.skane)
    env = {"GENOMENODE_TOKEN": node.tokens[user]} if user else {}
    result = CliRunner().invoke(
        app, ["--data-dir", str(node.settings.data_dir), *args(node, person, user, tmp_path)], env=env
    )
    assert result.exit_code == _expected(command, who, user, own), result.output
    if result.exit_code:
        assert result.output.startswith("error:"), result.output


def test_cli_matrix__another_regions_person_reads_as_no_person(node: SecureNode) -> None:
    env = {"GENOMENODE_TOKEN": node.tokens["clinician-stockholm"]}
    base = ["--data-dir", str(node.settings.data_dir), "genotypes"]
    other = CliRunner().invoke(app, [*base, node.skane.pseudonym, "--gene", "CYP2C19"], env=env)
    missing = CliRunner().invoke(app, [*base, "f" * 64, "--gene", "CYP2C19"], env=env)
    assert other.output.replace(node.skane.pseudonym, "X") == missing.output.replace("f" * 64, "X")
