"""Gene panels in PanelApp's model: its TSV download and API v1 JSON, confidence levels, errors that point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genomenode.errors import PanelError
from genomenode.interpret.raredisease.panels import (
    Confidence,
    Panel,
    genes_at,
    inheritance_modes,
    parse_panelapp_json,
    parse_panelapp_tsv,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "raredisease"
TSV = (DATA / "panelapp_ataxia.tsv").read_text()
JSON: dict[str, Any] = json.loads((DATA / "panelapp_ataxia.json").read_text())


def test_tsv__panelapp_download_gives_genes_with_levels_moi_and_phenotypes() -> None:
    panel = parse_panelapp_tsv(TSV, source="panelapp_ataxia.tsv")
    assert (panel.name, panel.id, panel.version) == ("Hereditary ataxia", None, "1.34")
    assert [(g.symbol, g.confidence) for g in panel.genes] == [
        ("ATM", Confidence.GREEN),
        ("SPTBN2", Confidence.GREEN),  # PanelApp level 4 shows green
        ("ABCB7", Confidence.AMBER),
        ("KCND3", Confidence.RED),
    ]
    atm = panel.gene("atm")
    assert atm is not None and atm.hgnc_id == "HGNC:795" and atm.inheritance == {"AR"}
    assert atm.phenotypes == ("Ataxia-telangiectasia, 208900", "Ataxia-telangiectasia")
    kcnd3 = panel.gene("KCND3")
    assert kcnd3 is not None and kcnd3.hgnc_id is None and kcnd3.lof_not_disease_mechanism
    assert panel.unrated == ("ATXN8OS",)  # level 0: on no list


def test_tsv__str_and_region_rows_are_not_genes() -> None:
    panel = parse_panelapp_tsv(TSV)
    assert "ATXN1" not in {g.symbol for g in panel.genes}
    assert all(g.symbol != "" for g in panel.genes)


def test_tsv__a_hand_made_panel_needs_only_symbol_and_confidence() -> None:
    panel = parse_panelapp_tsv("Gene Symbol\tConfidence\nBRCA1\tgreen\nBRCA2\tAmber\n", name="Breast", panel_id=7)
    assert str(panel) == "Breast (PanelApp 7) v?"
    assert [(g.symbol, g.confidence, g.inheritance) for g in panel.genes] == [
        ("BRCA1", Confidence.GREEN, frozenset()),
        ("BRCA2", Confidence.AMBER, frozenset()),
    ]


def test_json__panel_detail_gives_id_name_version_and_genes_only() -> None:
    panel = parse_panelapp_json(JSON, source="panel-9.json")
    assert (panel.name, panel.id, panel.version, panel.source) == ("Hereditary ataxia", 9, "1.34", "panel-9.json")
    assert [(g.symbol, g.confidence, g.hgnc_id) for g in panel.genes] == [
        ("ATM", Confidence.GREEN, "HGNC:795"),
        ("ABCB7", Confidence.AMBER, "HGNC:48"),
        ("KCND3", Confidence.RED, "HGNC:6239"),
    ]
    assert panel.unrated == ("ATXN8OS",)
    abcb7 = panel.gene("ABCB7")
    assert abcb7 is not None and abcb7.inheritance == {"XLR"} and abcb7.mode_of_pathogenicity == ""


def test_json__a_page_of_genes_takes_its_panel_from_the_entries() -> None:
    page = {"count": 2, "next": None, "results": [dict(g, panel=JSON | {"genes": None}) for g in JSON["genes"][:2]]}
    panel = parse_panelapp_json(page)
    assert panel.id == 9 and [g.symbol for g in panel.genes] == ["ATM", "ABCB7"]


def test_json_and_tsv__agree_on_the_genes_both_hold() -> None:
    from_tsv = {g.symbol: g for g in parse_panelapp_tsv(TSV).genes}
    for gene in parse_panelapp_json(JSON).genes:
        other = from_tsv[gene.symbol]
        assert (gene.confidence, gene.mode_of_inheritance) == (other.confidence, other.mode_of_inheritance)


def test_genes_at__restricts_to_a_chosen_confidence() -> None:
    panel = parse_panelapp_tsv(TSV)
    assert [g.symbol for g in genes_at(panel)] == ["ATM", "SPTBN2"]
    assert [g.symbol for g in genes_at(panel, Confidence.AMBER)] == ["ATM", "SPTBN2", "ABCB7"]
    assert panel.symbols(Confidence.RED) == {"ATM", "SPTBN2", "ABCB7", "KCND3"}


@pytest.mark.parametrize(
    ("moi", "modes"),
    [
        ("MONOALLELIC, autosomal or pseudoautosomal, maternally imprinted (paternal allele expressed)", {"AD"}),
        ("BIALLELIC, autosomal or pseudoautosomal", {"AR"}),
        (
            "BOTH monoallelic and biallelic (but BIALLELIC mutations cause a more SEVERE disease form), autosomal",
            {"AD", "AR"},
        ),
        ("X-LINKED: hemizygous mutation in males, biallelic mutations in females", {"XLR"}),
        ("X-LINKED: hemizygous mutation in males, monoallelic mutations in females may cause disease", {"XLR", "XLD"}),
        ("MITOCHONDRIAL", {"MT"}),
        ("Unknown", set()),
        ("Other - please specifiy in evaluation comments", set()),
        ("", set()),
    ],
)
def test_inheritance_modes__follow_panelapps_vocabulary(moi: str, modes: set[str]) -> None:
    assert inheritance_modes(moi) == modes


@given(st.integers(min_value=1, max_value=4))
def test_confidence__levels_above_zero_map_to_red_amber_green(level: int) -> None:
    parsed = Confidence.parse(str(level))
    assert parsed is not None and parsed.value == min(level, 3)


@pytest.mark.parametrize("text", ["5", "-1", "high", "3.0", ""])
def test_confidence__other_values_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Confidence.parse(text)


def _tsv(*rows: str, header: str = "Gene Symbol\tGEL_Status\tHGNC\tversion\tLevel4") -> str:
    return "\n".join([header, *rows]) + "\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        (_tsv(header="Symbol\tRating"), "line 1: the header has no confidence column"),
        (_tsv(header="Rating\tNotes"), "no gene symbol or confidence column"),
        (
            _tsv("ATM\t3\tHGNC:795\t1.0\tP", "ATM\thigh\t\t1.0\tP"),
            "line 3: field GEL_Status: 'high' is not a PanelApp confidence",
        ),
        (_tsv("ATM\t3\t795\t1.0\tP"), "line 2: field HGNC: '795' is not an HGNC id"),
        (
            _tsv("ATM\t3\t\t1.0\tP", "atm\t2\t\t1.0\tP"),
            "line 3: column Gene Symbol: gene atm is listed again \\(first on line 2\\)",
        ),
        (_tsv("ATM\t3\t\t1.0"), "line 2: 4 columns, the header has 5"),
        (_tsv("ATM\t3\t\t1.0\tP", "TTN\t3\t\t1.1\tP"), "line 3: column version: '1.1' differs from '1.0' on line 2"),
        (_tsv("ATM\t3\t\tv1\tP"), "line 2: column version: 'v1' is not a version"),
        (_tsv("AT M\t3\t\t1.0\tP"), "line 2: field Gene Symbol: 'AT M' is not a gene symbol"),
        (_tsv("ATM\t3", header="Gene Symbol\tGEL_Status"), "no panel name"),
    ],
)
def test_tsv__malformed_panel_names_file_line_and_field(text: str, message: str) -> None:
    with pytest.raises(PanelError, match=message) as info:
        parse_panelapp_tsv(text, source="my.tsv")
    assert str(info.value).startswith("my.tsv: ")


def _json(**changes: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(JSON))
    data.update(changes)
    return data


def _gene(**changes: Any) -> dict[str, Any]:
    return {**JSON["genes"][0], **changes}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a PanelApp panel is a JSON object, not list"),
        ({"name": "x"}, "field genes: missing"),
        (_json(name=""), "field name: the panel has no name"),
        (_json(id="9"), "field id: '9' is not PanelApp's numeric panel id"),
        (_json(version="latest"), "field version: 'latest' is not a version"),
        (_json(genes={"ATM": {}}), "field genes: a list of genes, not dict"),
        (_json(genes=["ATM"]), r"field genes\[0\]: a gene is a JSON object, not str"),
        (_json(genes=[_gene(confidence_level="green-ish")]), r"field genes\[0\]: field confidence_level"),
        (_json(genes=[_gene(confidence_level=None)]), r"field genes\[0\]: field confidence_level: ''"),
        (_json(genes=[_gene(phenotypes="Ataxia")]), r"field genes\[0\].phenotypes: a list of strings"),
        (_json(genes=[_gene(mode_of_inheritance=3)]), r"field genes\[0\].mode_of_inheritance: a string, not int"),
        (_json(genes=[_gene(gene_data=["ATM"])]), r"field genes\[0\].gene_data: an object, not list"),
        (_json(genes=[_gene(), _gene()]), r"field genes\[1\]: gene ATM is listed again \(first at genes\[0\]\)"),
        (_json(genes=[_gene(gene_data={"hgnc_id": "HGNC795", "gene_symbol": "ATM"})]), "gene_data.hgnc_id: 'HGNC795'"),
        ({"results": [{"entity_name": "ATM"}]}, "no entry names its panel"),
        (
            {"results": [_gene(panel={"id": 1, "name": "a"}), _gene(panel={"id": 2, "name": "b"})]},
            "genes of several panels",
        ),
    ],
)
def test_json__malformed_panel_names_file_and_field(data: Any, message: str) -> None:
    with pytest.raises(PanelError, match=message) as info:
        parse_panelapp_json(data, source="panel.json")
    assert str(info.value).startswith("panel.json: ")


def test_panel__is_a_plain_value() -> None:
    a, b = parse_panelapp_json(JSON), parse_panelapp_json(JSON)
    assert a == b and isinstance(a, Panel)
