"""`case analyse --format html`: one self-contained page per case, every value escaped, nothing fetched."""

from __future__ import annotations

import copy
import html
import importlib.metadata
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from genomenode.cases.oneshot import analyse_vcf
from genomenode.cases.report_html import render_html
from genomenode.cli.main import app
from genomenode.simulate.family import Planted, write_family
from genomenode.store.hpo import Hpo
from genomenode.store.hpo_annotations import annotations_path, load_annotations

DRAVET = "OMIM:607208"
WHEN = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HOSTILE = "<script>alert(1)</script>"


class Page(HTMLParser):
    """Checks that tags balance and collects what a test asks about: tags, URL attributes, variant rows."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: set[str] = set()
        self.urls: list[tuple[str, str, str]] = []  # tag, attribute, value
        self.doctype = ""
        self.rows: list[list[str]] = []  # the cells' text of each <tr class="variant">
        self._row: list[str] | None = None
        self.feed(text)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed at the end: {self.stack}")

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "data", "poster", "formaction") or name.startswith("on"):
                self.urls.append((tag, name, value or ""))
        if tag == "tr" and ("class", "variant") in attrs:
            self._row = []
            self.rows.append(self._row)
        if tag == "td" and self._row is not None:
            self._row.append("")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.errors.append(f"</{tag}> closes a void element")
        elif not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()
        if tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row:
            self._row[-1] += data


def parse(page: str) -> Page:
    parsed = Page(page)
    assert parsed.errors == []
    assert parsed.doctype.lower() == "doctype html"
    return parsed


@pytest.fixture(scope="module")
def dravet_terms(hpo: Hpo) -> tuple[str, ...]:
    terms = load_annotations(annotations_path()).disease_terms[DRAVET]
    return tuple(t for t in terms if "HP:0000118" in hpo.ancestors(t))[:8]


@pytest.fixture(scope="module")
def trio(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    planted = [
        Planted("SCN1A", ("0/1", "0/0", "0/0"), csq="stop_gained|HIGH|ENSP0:p.Arg100Ter|HC|0.99"),  # de novo LoF
        Planted("CFTR", ("1/1", "0/1", "0/1")),  # recessive, homozygous
        Planted("USH2A", ("0/1", "0/1", "0/0")),  # compound het: paternal ...
        Planted("USH2A", ("0/1", "0/0", "0/1"), offset=30),  # ... and maternal
    ]
    return write_family(tmp_path_factory.mktemp("trio"), planted)


@pytest.fixture(scope="module")
def trio_result(trio: tuple[Path, Path], dravet_terms: tuple[str, ...]) -> dict[str, Any]:
    vcf, ped = trio
    return analyse_vcf(vcf, ped=ped, hpo=dravet_terms).as_dict()


def test_report_html__is_well_formed_ascii_and_loads_nothing_from_outside(trio_result: dict[str, Any]) -> None:
    page = render_html(trio_result, generated=WHEN)
    parsed = parse(page)
    assert not parsed.tags & {"script", "link", "img", "iframe", "object", "embed", "base", "form", "video", "audio"}
    assert parsed.urls == []  # no src=, no href=, no event handlers: nothing to fetch or run
    for outside in ("http://", "https://", "//", "url(", "@import"):
        assert outside not in page
    assert "Content-Security-Policy" in page and "default-src &#x27;none&#x27;" in page
    assert page.isascii()  # other characters as references, whatever the terminal's encoding


def test_report_html__shows_each_candidate_in_rank_order_with_its_genotypes_and_score(
    trio_result: dict[str, Any],
) -> None:
    parsed = parse(render_html(trio_result, generated=WHEN))
    candidates = trio_result["candidates"]
    assert [c["gene"] for c in candidates][:1] == ["SCN1A"]
    shown = [(int(row[0]), row[1], row[2]) for row in parsed.rows]
    assert shown == [(c["rank"], c["gene"], f"{c['chrom']}:{c['pos']} {c['ref']}>{c['alt']}") for c in candidates]
    # rank, gene, variant, HGVS, consequence, inheritance, child, father, mother, max AF, score, ACMG
    first = parsed.rows[0]
    assert first[3:9] == ["ENSP0:p.Arg100Ter", "stop_gained", "de novo", "0/1", "0/0", "0/0"]
    assert first[10].startswith(f"{candidates[0]['score']:.3f}") and "\u00d7" in first[10]
    assert first[11].startswith("PVS1PS2")


def test_report_html__acmg_labels_carry_their_reasons_and_the_footer_says_no_classification(
    trio_result: dict[str, Any],
) -> None:
    page = html.unescape(render_html(trio_result, generated=WHEN))
    scn1a = trio_result["candidates"][0]
    code, _, why = scn1a["acmg"][0].partition(" ")
    assert f'title="{why[1:-1]}">{code}</span>' in page  # tooltip on screen
    assert f"<strong>{code}</strong>: {why[1:-1]}" in page  # and a line that prints
    for reason in scn1a["reasons"]:
        assert f"<li>{reason}</li>" in page
    assert "for a clinical scientist to weigh; no classification" in page
    version = importlib.metadata.version("genomenode")
    assert f"Generated by genomenode {version} at 2025-01-02T03:04:05+00:00." in page


def test_report_html__a_compound_het_pair_is_shown_together_under_one_rank(trio_result: dict[str, Any]) -> None:
    page = render_html(trio_result, generated=WHEN)
    (rank,) = {c["rank"] for c in trio_result["candidates"] if c["gene"] == "USH2A"}
    body = re.search(rf'<tbody id="rank-{rank}">(.*?)</tbody>', page, re.S)
    assert body is not None
    assert "2 variants in USH2A together, compound heterozygous" in body.group(1)
    assert body.group(1).count('<tr class="variant">') == 2


def test_report_html__names_hpo_terms_when_given_names_and_shows_ids_alone_otherwise(
    trio_result: dict[str, Any], hpo: Hpo
) -> None:
    term = trio_result["hpo"][0]
    named = render_html(trio_result, generated=WHEN, term_names=hpo.names)
    assert f'<span class="mono">{term}</span> {html.escape(hpo.names[term])}</li>' in named
    plain = render_html(trio_result, generated=WHEN)
    assert f'<span class="mono">{term}</span></li>' in plain
    assert render_html(trio_result, generated=WHEN) == plain  # deterministic for a given time


def test_report_html__escapes_hostile_sample_ids_hgvs_reasons_and_notes(trio_result: dict[str, Any], hpo: Hpo) -> None:
    # GIVEN a result whose user-supplied strings carry markup: a sample id, HGVS, reasons, ACMG text, notes
    result = copy.deepcopy(trio_result)
    renamed = {"child": HOSTILE, "father": '"><img src=x onerror=alert(1)>', "mother": "mother&co"}
    result["proband"] = HOSTILE
    result["members"] = [renamed[m] for m in result["members"]]
    for c in result["candidates"]:
        c["genotypes"] = {renamed[m]: g for m, g in c["genotypes"].items()}
        c["gene"] = "</td></tr></tbody></table><script>x()</script>"
        c["hgvs"] = "p.Arg100Ter<script>alert(2)</script>"
        c["reasons"] = [*c["reasons"], HOSTILE, "'; onload='alert(3)"]
        c["acmg"] = [*c["acmg"], f'PS2" onmouseover="alert(4) ({HOSTILE})']
    result["notes"] = [HOSTILE]
    result["cannot_tell"] = {HOSTILE: [HOSTILE]}
    result["settings"] = {HOSTILE: {HOSTILE: HOSTILE}}
    term = result["hpo"][0]
    names = {term: HOSTILE}
    # WHEN it is rendered
    page = render_html(result, generated=WHEN, term_names=names)
    # THEN no markup got through: the page still balances, has no script, image or handler, and shows the text
    parsed = parse(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert parsed.urls == []
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 6
    assert "&lt;/td&gt;&lt;/tr&gt;" in page
    assert "mother&amp;co" in page
    assert len(parsed.rows) == len(result["candidates"])  # the hostile gene name did not end the table


def test_report_html__a_singleton_says_what_it_cannot_tell(trio: tuple[Path, Path]) -> None:
    vcf, _ = trio
    result = analyse_vcf(vcf, proband="child").as_dict()
    page = html.unescape(render_html(result, generated=WHEN))
    section = re.search(r'<section id="cannot-tell">(.*?)</section>', page, re.S)
    assert section is not None
    assert "no parent genotyped: a de novo variant cannot be told from an inherited one" in section.group(1)
    assert "singleton" in section.group(1)
    assert "<dd>singleton: <strong>child</strong></dd>" in page
    assert "none given: candidates are ranked on variant evidence alone" in page
    assert "1 (no HPO terms)" in page


def test_report_html__no_candidates_is_said_plainly(trio_result: dict[str, Any]) -> None:
    result = {**trio_result, "candidates": []}
    page = render_html(result, generated=WHEN)
    parse(page)
    assert "No variant passed the filters." in page and '<table class="candidates">' not in page


def test_cli_case_analyse__html_on_the_example_case(
    trio: tuple[Path, Path], dravet_terms: tuple[str, ...], hpo: Hpo
) -> None:
    vcf, ped = trio
    args = ["case", "analyse", "--vcf", str(vcf), "--ped", str(ped), "--hpo", ",".join(dravet_terms)]
    out = CliRunner().invoke(app, [*args, "--format", "html"])
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("<!DOCTYPE html>")
    parsed = parse(out.stdout)
    assert parsed.rows[0][1] == "SCN1A"
    assert html.escape(hpo.names[dravet_terms[0]]) in out.stdout  # the CLI passes the ontology's names
    assert "Generated by genomenode" in out.stdout
