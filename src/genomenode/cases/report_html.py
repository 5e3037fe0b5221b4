"""A case's analysis as one HTML page to read on screen or print: `render_html(result.as_dict())`.

The page is self-contained and every value in it is text (`domain.markup`: inline CSS, no
script, a Content-Security-Policy, escaping by construction, ASCII out).

What it shows, top to bottom (Exomiser's report puts its settings and filter counts above the
ranked genes; Scout's case report leads with the phenotype): the proband, the family's shape,
assembly and HPO terms; what the family's structure cannot tell; the alleles left after each step
and the settings; the ranked candidates, a compound-het pair together under its rank, each with its
genotypes, score (variant x phenotype), ACMG criteria and reasons. It makes no classification.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from genomenode.domain.markup import Html as _Html
from genomenode.domain.markup import el as _el
from genomenode.domain.markup import join as _join
from genomenode.domain.markup import page

COUNT_LABELS = {
    "alleles": "alleles in the VCF",
    "carried_by_proband": "carried by the proband",
    "near_exons": "in or next to an exon",
    "passing_quality": "passing genotype quality",
    "candidate_genes": "candidate genes (an inheritance mode fits, rare enough)",
}
SETTING_LABELS = {"quality": "genotype quality", "max_af": "population frequency cap per mode"}
_CSS = """
:root { color-scheme: light; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Arial, sans-serif; color: #1a1a1a;
  margin: 1.5rem auto; max-width: 80rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.summary dt { font-weight: 600; color: #444; }
dl.summary dd { margin: 0; }
ul { margin: .2rem 0; padding-left: 1.3rem; }
table { border-collapse: collapse; margin: .3rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .45rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.candidates { width: 100%; }
table.candidates tbody { border: 2px solid #888; }
table.candidates tr.detail td { background: #fafafa; font-size: .9em; }
tr.pair-label td { background: #fff4d6; font-weight: 600; }
.mono { font-family: ui-monospace, "Cantarell Mono", Consolas, monospace; overflow-wrap: anywhere; }
.gt-alt { font-weight: 700; }
.muted { color: #666; }
.acmg { display: inline-block; border: 1px solid #555; border-radius: 3px; padding: 0 .3rem;
  margin: 0 .2rem .2rem 0; font-size: .85em; font-weight: 600; background: #eef; }
.acmg-PVS1, .acmg-PS2 { background: #fdd; }
.acmg-PM6, .acmg-PM2_Supporting { background: #fed; }
footer { margin-top: 2rem; border-top: 1px solid #ccc; padding-top: .5rem; font-size: .9em; color: #444; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { font-size: 10pt; margin: 0; max-width: none; }
  thead { display: table-header-group; }
  table.candidates tbody { break-inside: avoid; }
  h2 { break-after: avoid; }
}
"""


def render_html(
    result: Mapping[str, Any],
    *,
    generated: datetime,
    term_names: Mapping[str, str] | None = None,
) -> str:
    """The page for `CaseResult.as_dict()`; `generated` is the time it states it was made at, and
    `term_names` (`knowledge.hpo().names`) names the HPO terms, else they are shown as ids."""
    proband = str(result["proband"])
    members = [str(m) for m in result["members"]]
    title = f"Case report: {proband}"
    body = _el(
        "body",
        _el("header", _el("h1", title), _summary(result, members, term_names)),
        _el("main", _cannot_tell(result), _notes(result), _filtering(result), _candidates(result, members)),
        _footer(generated),
    )
    return page(f"genomenode {title}", _CSS, body)


def _summary(result: Mapping[str, Any], members: list[str], term_names: Mapping[str, str] | None) -> _Html:
    proband = str(result["proband"])
    family = [_el("strong", m) if m == proband else m for m in members]
    family_text = _join([result["family"], ": ", *_interleave(family, ", ")])
    terms = [str(t) for t in result.get("hpo", [])]
    names = term_names or {}
    hpo = (
        _el("ul", [_el("li", _el("span", t, class_="mono"), f" {names[t]}" if names.get(t) else None) for t in terms])
        if terms
        else _el("span", "none given: candidates are ranked on variant evidence alone", class_="muted")
    )
    return _el(
        "dl",
        _el("dt", "Proband"),
        _el("dd", proband),
        _el("dt", "Family"),
        _el("dd", family_text),
        _el("dt", "Assembly"),
        _el("dd", result["assembly"]),
        _el("dt", "HPO terms"),
        _el("dd", hpo),
        class_="summary",
    )


def _interleave(items: Sequence[object], separator: str) -> list[object]:
    out: list[object] = []
    for i, item in enumerate(items):
        out.extend([separator, item] if i else [item])
    return out


def _cannot_tell(result: Mapping[str, Any]) -> _Html:
    untold: Mapping[str, Iterable[str]] = result.get("cannot_tell") or {}
    if not untold:
        content: _Html = _el("p", "Nothing: the family's structure lets every mode of inheritance be told.")
    else:
        content = _el(
            "dl",
            [(_el("dt", mode), _el("dd", _el("ul", [_el("li", n) for n in notes]))) for mode, notes in untold.items()],
        )
    return _el("section", _el("h2", "What this family cannot tell"), content, id="cannot-tell")


def _notes(result: Mapping[str, Any]) -> _Html | None:
    notes = result.get("notes") or []
    if not notes:
        return None
    return _el("section", _el("h2", "Notes"), _el("ul", [_el("li", n) for n in notes]), id="notes")


def _filtering(result: Mapping[str, Any]) -> _Html:
    counts: Mapping[str, int] = result.get("counts") or {}
    steps = _el(
        "table",
        _el("thead", _el("tr", _el("th", "step"), _el("th", "left"))),
        _el(
            "tbody",
            [
                _el("tr", _el("td", COUNT_LABELS.get(k, k)), _el("td", f"{v:,}", class_="num"))
                for k, v in counts.items()
            ],
        ),
    )
    settings: Mapping[str, Any] = result.get("settings") or {}
    rows = [
        _el("tr", _el("th", SETTING_LABELS.get(k, k), scope="row"), _el("td", _setting(v))) for k, v in settings.items()
    ]
    return _el(
        "section",
        _el("h2", "Filtering"),
        steps,
        _el("h2", "Settings"),
        _el("table", _el("tbody", rows)) if rows else _el("p", "none recorded", class_="muted"),
        id="filtering",
    )


def _setting(value: Any) -> _Html:
    if isinstance(value, Mapping):
        return _el("ul", [_el("li", f"{k}: ", _el("span", _plain(v), class_="mono")) for k, v in value.items()])
    return _join([_plain(value)])


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def _candidates(result: Mapping[str, Any], members: list[str]) -> _Html:
    candidates: list[Mapping[str, Any]] = list(result.get("candidates") or [])
    if not candidates:
        heading = _el("h2", "Candidates")
        return _el("section", heading, _el("p", "No variant passed the filters."), id="candidates")
    proband = str(result["proband"])
    columns = [
        "rank",
        "gene",
        "variant",
        "HGVS",
        "consequence",
        "inheritance",
        *[f"{m} (proband)" if m == proband else m for m in members],
        "max AF",
        "score (variant \u00d7 phenotype)",
        "ACMG criteria",
    ]
    groups: list[list[Mapping[str, Any]]] = []
    for c in candidates:  # rows of one ranked candidate (a compound-het pair) are adjacent and share a rank
        if groups and groups[-1][0]["rank"] == c["rank"] and groups[-1][0]["gene"] == c["gene"]:
            groups[-1].append(c)
        else:
            groups.append([c])
    heading = _el("h2", f"Candidates: {len(groups)} ranked, {len(candidates)} variants")
    phenotype_scored = bool(result.get("hpo"))
    bodies = [_group(g, members, len(columns), phenotype_scored=phenotype_scored) for g in groups]
    table = _el(
        "table",
        _el("thead", _el("tr", [_el("th", c, scope="col") for c in columns])),
        bodies,
        class_="candidates",
    )
    return _el("section", heading, table, id="candidates")


def _group(group: list[Mapping[str, Any]], members: list[str], width: int, *, phenotype_scored: bool) -> _Html:
    rows: list[_Html] = []
    if len(group) > 1:
        first = group[0]
        rows.append(
            _el(
                "tr",
                _el(
                    "td",
                    f"Rank {first['rank']}: {len(group)} variants in {first['gene']} together, "
                    f"{first['inheritance']}; scored as one candidate",
                    colspan=width,
                ),
                class_="pair-label",
            )
        )
    for c in group:
        rows.append(_variant_row(c, members, phenotype_scored=phenotype_scored))
        rows.append(_detail_row(c, width))
    return _el("tbody", rows, id=f"rank-{group[0]['rank']}")


def _variant_text(c: Mapping[str, Any]) -> str:
    return f"{c['chrom']}:{c['pos']} {c['ref']}>{c['alt']}"


def _acmg_parts(criterion: str) -> tuple[str, str]:
    """'PVS1 (predicted loss of function ...)' -> ('PVS1', 'predicted loss of function ...')."""
    code, _, why = str(criterion).partition(" ")
    why = why.strip()
    if why.startswith("(") and why.endswith(")"):
        why = why[1:-1]
    return code, why


def _variant_row(c: Mapping[str, Any], members: list[str], *, phenotype_scored: bool) -> _Html:
    genotypes: Mapping[str, str] = c.get("genotypes") or {}
    gt_cells = []
    for m in members:
        gt = str(genotypes.get(m, "./."))
        gt_cells.append(_el("td", gt, class_="mono gt-alt" if "1" in gt else "mono"))
    af = c.get("max_af")
    af_cell = _el("td", f"{af:.3g}", class_="num") if af is not None else _el("td", "no data", class_="muted")
    pheno = f"{c['phenotype_score']:.2f}" if phenotype_scored else "1 (no HPO terms)"
    score = _el(
        "td",
        f"{c['score']:.3f}",
        _el("br"),
        _el("span", f"{c['variant_score']:.2f} \u00d7 {pheno}", class_="muted"),
        class_="num",
    )
    labels = []
    for criterion in c.get("acmg") or []:
        code, why = _acmg_parts(criterion)
        labels.append(_el("span", code, class_=f"acmg acmg-{code}", title=why or None))
    return _el(
        "tr",
        _el("td", c["rank"], class_="num"),
        _el("td", _el("strong", c["gene"])),
        _el("td", _variant_text(c), class_="mono"),
        _el("td", c.get("hgvs") or "", class_="mono"),
        _el("td", c.get("consequence") or ""),
        _el("td", c.get("inheritance") or ""),
        gt_cells,
        af_cell,
        score,
        _el("td", labels or _el("span", "none", class_="muted")),
        class_="variant",
    )


def _detail_row(c: Mapping[str, Any], width: int) -> _Html:
    criteria = [_acmg_parts(k) for k in c.get("acmg") or []]
    acmg = (
        _el("ul", [_el("li", _el("strong", code), f": {why}" if why else None) for code, why in criteria])
        if criteria
        else None
    )
    reasons = _el("ul", [_el("li", r) for r in c.get("reasons") or []])
    return _el(
        "tr",
        _el(
            "td",
            _el("strong", f"Why {c['gene']} {_variant_text(c)}:"),
            reasons,
            (_el("strong", "ACMG criteria met on the node's evidence:"), acmg) if acmg else None,
            colspan=width,
        ),
        class_="detail",
    )


def _footer(generated: datetime) -> _Html:
    version = importlib.metadata.version("genomenode")
    return _el(
        "footer",
        _el(
            "p",
            "ACMG criteria are listed for a clinical scientist to weigh; no classification "
            "(pathogenic, likely pathogenic, uncertain significance, ...) is made here. "
            "The score ranks candidates for review: variant (consequence, rarity, how well the "
            "inheritance mode is confirmed) \u00d7 phenotype (the gene's match to the HPO terms, "
            "relative to the best-matching gene).",
        ),
        _el("p", f"Generated by genomenode {version} at {generated.isoformat(timespec='seconds')}."),
    )
