"""Docs kept honest: every setting is explained in the code and listed in the README."""

from __future__ import annotations

from pathlib import Path

from genomenode.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_has_help_text_and_a_readme_row() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"Settings.{name} has no description"
        assert f"`GENOMENODE_{name.upper()}`" in README, f"README does not list GENOMENODE_{name.upper()}"


def test_readme_starts_with_the_two_commands() -> None:
    head = README.split("\n## ")[0]
    assert "make demo" in head and "make test" in head
