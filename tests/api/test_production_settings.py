"""GENOMENODE_ENV=production refuses a dangerous configuration before it serves anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from genomenode.api.app import create_app
from genomenode.cli.main import app as cli
from genomenode.errors import ConfigurationError
from genomenode.settings import Settings


def _safe(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "secrets_dir": tmp_path / "secrets",
        "env": "production",
        "public_url": "https://genomes.example.se",
        "cors_origins": ["https://portal.example.se"],
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def _init_keys(settings: Settings) -> None:
    result = CliRunner().invoke(
        cli,
        ["keys", "init"],
        env={"GENOMENODE_DATA_DIR": str(settings.data_dir), "GENOMENODE_SECRETS_DIR": str(settings.secrets_dir)},
    )
    assert result.exit_code == 0, result.output


def test_production__missing_keys_refuse_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"pseudonymisation key .* is missing"):
        create_app(_safe(tmp_path))


def test_production__a_safe_configuration_starts(tmp_path: Path) -> None:
    settings = _safe(tmp_path)
    _init_keys(settings)
    create_app(settings)


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"cors_origins": ["*"]}, "open CORS"),
        ({"audit_enabled": False}, "AUDIT_ENABLED is off"),
        ({"public_url": "http://127.0.0.1:8000"}, "not an https URL"),
        ({"secrets_dir": None}, "SECRETS_DIR must be set"),
        ({"small_count_floor": 1}, "below 5"),
    ],
)
def test_production__each_dangerous_setting_is_named(
    tmp_path: Path, overrides: dict[str, object], problem: str
) -> None:
    settings = _safe(tmp_path)
    _init_keys(settings)
    with pytest.raises(ConfigurationError, match=problem):
        create_app(_safe(tmp_path, **overrides))


def test_production__group_readable_key_is_refused(tmp_path: Path) -> None:
    settings = _safe(tmp_path)
    _init_keys(settings)
    settings.signing_key_path.chmod(0o640)
    with pytest.raises(ConfigurationError, match="readable by others"):
        create_app(settings)


def test_development__defaults_start(tmp_path: Path) -> None:
    create_app(Settings(data_dir=tmp_path / "dev"))
