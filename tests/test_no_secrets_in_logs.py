"""Run the node's secure paths with every logger at DEBUG: no key, token, raw id or genotype in the log."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from genomenode.api.app import create_app
from genomenode.cli.main import app as cli
from tests.secure_node import build_secure_node


def test_logs__nothing_secret_at_debug(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("crypt4gh", "httpx", "joserfc", "sqlalchemy", "duckdb", "genomenode"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    # GIVEN a node built, tokens issued, individual-level reads, a share, a withdrawal: all at DEBUG
    node = build_secure_node(tmp_path / "node", individuals=40, seed=3)
    settings = node.settings
    secrets: list[str] = list(node.tokens.values())
    with TestClient(create_app(settings)) as client:
        steward = node.headers("steward")
        body = client.get(
            f"/individuals/{node.stockholm.pseudonym}/genotypes", params={"gene": "CYP2C19"}, headers=steward
        )
        assert body.status_code == 200
        calls = body.json()["calls"]
        assert (
            client.post(f"/individuals/{node.spare[0].pseudonym}/consent/withdrawal", headers=steward).status_code
            == 200
        )
    recipient = tmp_path / "recipient.pub"
    from genomenode.access.crypt import encode_public_key, load_or_create_archive_keys

    other = load_or_create_archive_keys(tmp_path / "r" / "sec", tmp_path / "r" / "pub")
    recipient.write_bytes(encode_public_key(other.public))
    token_file = tmp_path / "steward.token"
    token_file.write_text(node.tokens["steward"])
    shared = CliRunner().invoke(
        cli,
        [
            "--data-dir",
            str(settings.data_dir),
            "share",
            "1",
            "--recipient-key",
            str(recipient),
            "--out",
            str(tmp_path / "shared.c4gh"),
            "--token-file",
            str(token_file),
        ],
    )
    assert shared.exit_code == 0, shared.output
    # THEN none of the node's key material, the tokens, the raw ids or the genotypes are in the log
    secrets.append(settings.pseudonym_key_path.read_text().strip())
    secrets.append(json.loads(settings.signing_key_path.read_text())["d"])
    archive = load_or_create_archive_keys(*settings.crypt4gh_key_paths)
    secrets += [archive.secret.hex(), base64.b64encode(archive.secret).decode(), other.secret.hex()]
    sheet = (settings.data_dir / "demo-submissions" / "samples.tsv").read_text().splitlines()[1:]
    raw_ids = [line.split("\t")[1] for line in sheet]
    log = "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records, "nothing was logged at DEBUG: the check would be empty"
    for secret in secrets:
        assert secret not in log
    for raw in raw_ids:
        assert raw not in log
    for call in calls:
        assert json.dumps(call) not in log and f"{call['pos']}\t{call['genotype']}" not in log
