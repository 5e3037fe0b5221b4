"""Reading a gene panel file: format by name or content, and errors that name the file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from genomenode.errors import PanelError
from genomenode.ingest.panels import read_panel_file
from genomenode.interpret.raredisease.panels import parse_panelapp_json, parse_panelapp_tsv

DATA = Path(__file__).resolve().parents[1] / "data" / "raredisease"


def test_read__panelapp_tsv_download_reads_as_tsv_named_after_the_file(tmp_path: Path) -> None:
    path = tmp_path / "Hereditary ataxia.tsv"
    shutil.copy(DATA / "panelapp_ataxia.tsv", path)
    raw = read_panel_file(path)
    assert (raw.format, raw.name, raw.source) == ("tsv", "Hereditary ataxia", str(path))
    panel = parse_panelapp_tsv(raw.content, source=raw.source, name=raw.name)
    assert panel.version == "1.34" and len(panel.genes) == 4


def test_read__api_json_reads_as_json_by_extension_or_content(tmp_path: Path) -> None:
    raw = read_panel_file(DATA / "panelapp_ataxia.json")
    assert raw.format == "json" and parse_panelapp_json(raw.content).id == 9
    unnamed = tmp_path / "panel-9.download"
    unnamed.write_text((DATA / "panelapp_ataxia.json").read_text())
    assert read_panel_file(unnamed).format == "json"


def test_read__a_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "p.tsv"
    path.write_bytes(b"\xef\xbb\xbfGene Symbol\tGEL_Status\nATM\t3\n")
    assert read_panel_file(path).content.startswith("Gene Symbol")


def test_read__missing_file_and_directory_are_named(tmp_path: Path) -> None:
    with pytest.raises(PanelError, match="no such file"):
        read_panel_file(tmp_path / "none.tsv")
    with pytest.raises(PanelError, match="is a directory"):
        read_panel_file(tmp_path)


def test_read__broken_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{\n  "name": "x",\n  "genes": [,]\n}\n')
    with pytest.raises(PanelError, match=r"p\.json: line 3, column 13: not valid JSON"):
        read_panel_file(path)


def test_read__text_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "p.tsv"
    path.write_bytes(b"Gene Symbol\tGEL_Status\nATM\t3\nCAF\xe91\t2\n")
    with pytest.raises(PanelError, match=r"line 3: byte 32 is not UTF-8"):
        read_panel_file(path)
