"""A PGx report as one HTML page to read on screen or print: `render_html(report)`.

Self-contained and escaped by construction (`domain.markup`). Top to bottom, as PharmCAT's report
orders it: the sample and whether the calls are complete; the genes (diplotypes, phenotype,
activity score, missing positions, warnings); the drug recommendations with the phenotypes they
were chosen on; the sources and their licences. It states what could not be called rather than
leaving a gene out.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from genomenode.domain.markup import Html, el, page

_CSS = """
:root { color-scheme: light; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Arial, sans-serif; color: #1a1a1a;
  margin: 1.5rem auto; max-width: 80rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.summary dt { font-weight: 600; color: #444; }
dl.summary dd { margin: 0; }
table { border-collapse: collapse; margin: .3rem 0; width: 100%; }
th, td { border: 1px solid #ccc; padding: .25rem .45rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
ul { margin: .2rem 0; padding-left: 1.3rem; }
.mono { font-family: ui-monospace, "Cantarell Mono", Consolas, monospace; overflow-wrap: anywhere; }
.muted { color: #666; }
.warn { background: #fff4d6; border: 1px solid #e0c060; padding: .4rem .6rem; }
tr.uncalled td { background: #fafafa; color: #555; }
footer { margin-top: 2rem; border-top: 1px solid #ccc; padding-top: .5rem; font-size: .9em; color: #444; }
@page { size: A4; margin: 12mm; }
@media print { body { font-size: 10pt; margin: 0; max-width: none; } thead { display: table-header-group; } }
"""


def render_html(report: Mapping[str, Any], *, generated: datetime) -> str:
    """The page for a report (`pgx.calling.call_sample`'s object)."""
    title = f"Pharmacogenomic report: {report['sample']}"
    body = el(
        "body",
        el("header", el("h1", title), _summary(report)),
        el("main", _warnings(report), _genes(report), _recommendations(report)),
        _footer(report, generated),
    )
    return page(f"genomenode {title}", _CSS, body)


def _summary(report: Mapping[str, Any]) -> Html:
    complete = report.get("complete")
    return el(
        "dl",
        el("dt", "Sample"),
        el("dd", report["sample"]),
        el("dt", "Source"),
        el("dd", report.get("source", "")),
        el("dt", "Calls"),
        el("dd", "complete" if complete else "incomplete: some positions were missing or genes not called"),
        class_="summary",
    )


def _warnings(report: Mapping[str, Any]) -> Html | None:
    warnings = report.get("warnings") or []
    if not warnings:
        return None
    return el("section", el("div", el("ul", [el("li", w) for w in warnings]), class_="warn"), id="warnings")


def _genes(report: Mapping[str, Any]) -> Html:
    rows = []
    for gene, entry in report["genes"].items():
        diplotypes = entry["diplotypes"]
        missing = entry.get("missing_positions") or []
        notes = entry.get("warnings") or []
        rows.append(
            el(
                "tr",
                el("td", el("strong", gene)),
                el("td", el("span", " or ".join(diplotypes), class_="mono") if diplotypes else "not called"),
                el("td", entry.get("phenotype") or el("span", "not determined", class_="muted")),
                el("td", entry.get("activity_score") or ""),
                el("td", entry.get("source", "")),
                el(
                    "td",
                    el("span", ", ".join(missing), class_="mono") if missing else el("span", "none", class_="muted"),
                ),
                el("td", el("ul", [el("li", n) for n in notes]) if notes else ""),
                class_=None if diplotypes else "uncalled",
            )
        )
    head = el(
        "thead",
        el(
            "tr",
            [el("th", h) for h in ("Gene", "Diplotype", "Phenotype", "Activity score", "Source", "Missing", "Notes")],
        ),
    )
    return el("section", el("h2", "Genes"), el("table", head, el("tbody", rows)), id="genes")


def _none() -> Html:
    return el("span", "none", class_="muted")


def _recommendations(report: Mapping[str, Any]) -> Html:
    recs = report.get("recommendations") or []
    if not recs:
        content: Html = el("p", "No CPIC recommendation applies to the phenotypes called.", class_="muted")
    else:
        rows = [
            el(
                "tr",
                el("td", el("strong", r["drug"])),
                el("td", "; ".join(f"{g}: {p or 'no result'}" for g, p in r["genes"].items())),
                el("td", r["recommendation"]),
                el("td", r.get("cpic_level") or ""),
                el("td", el("span", r["guideline"], class_="mono") if r.get("guideline") else ""),
            )
            for r in recs
        ]
        head = el(
            "thead", el("tr", [el("th", h) for h in ("Drug", "Phenotypes", "Recommendation", "Level", "Guideline")])
        )
        content = el("table", head, el("tbody", rows))
    return el("section", el("h2", "Drug recommendations (CPIC)"), content, id="recommendations")


def _footer(report: Mapping[str, Any], generated: datetime) -> Html:
    version = importlib.metadata.version("genomenode")
    reference = report.get("reference") or {}
    return el(
        "footer",
        el(
            "p",
            "Diplotypes are called from VCF genotypes with PharmCAT's published method; positions without a "
            "call are never assumed reference. CYP2D6 needs a call from a dedicated caller. Recommendations "
            "are CPIC's; they support, and do not replace, a prescriber's judgement.",
        ),
        el("p", reference.get("attribution", ""), f" PharmCAT data {reference.get('pharmcat_data', '')}."),
        el("p", f"Generated by genomenode {version} at {generated.isoformat(timespec='seconds')}."),
    )
