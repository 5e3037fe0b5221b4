"""The variant page: national counts, the same per population, region and sex, FILTER, annotations.

Counts come from `NodeQueries.variant` with the caller's small-count floor, so an anonymous
visitor sees exactly what the API's GET /variants/{id} returns them.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from genomenode.domain.assembly import Assembly
from genomenode.domain.variant import Region, parse_variant
from genomenode.query.annotations import annotation_formats, row_transcripts
from genomenode.query.service import NodeQueries
from genomenode.store.genes import genes_overlapping
from genomenode.web.charts import bar_chart
from genomenode.web.session import PortalCaller, gate_of
from genomenode.web.templating import frequency, render

router = APIRouter(include_in_schema=False)
STRATA = (("population", "Population"), ("centre", "Region (submitting centre)"), ("sex", "Sex"))


@router.get("/variant/{variant_id}")
async def variant_page(request: Request, variant_id: str, caller: PortalCaller) -> Response:
    q: NodeQueries = request.app.state.queries
    parsed = parse_variant(variant_id)

    def load() -> dict[str, Any]:
        floor = gate_of(request).floor_for(caller, None)
        answer = q.variant(parsed, floor=floor)
        assembly = Assembly(answer["assembly"])
        end = parsed.pos + len(parsed.ref) - 1
        return {
            "v": answer,
            "floor": floor,
            "genes": _named_first(genes_overlapping(assembly, parsed.chrom, parsed.pos, end, limit=10)),
            "annotations": _annotations(q, answer["assembly"], parsed.chrom, parsed.pos, parsed.ref, parsed.alt),
        }

    data = await run_in_threadpool(load)
    v = data["v"]
    strata = [
        {
            "key": key,
            "title": title,
            "rows": v["strata"].get(key, []),
            "chart": bar_chart(
                [(str(r[key]), r["af"], frequency(r["af"])) for r in v["strata"].get(key, [])],
                title=f"Allele frequency by {key}",
            ),
        }
        for key, title in STRATA
        if v["strata"].get(key)
    ]
    return render(request, "variant.html", title=f"Variant {v['variant_id']}", strata=strata, **data)


def _named_first(genes: list[Any]) -> list[Any]:
    """Genes with an HGNC symbol; GENCODE's unnamed ones (ENSG ids, readthroughs) only if none has one."""
    named = [g for g in genes if not g.symbol.startswith("ENSG")]
    return named or genes


def _annotations(q: NodeQueries, assembly: str, chrom: str, pos: int, ref: str, alt: str) -> dict[str, Any]:
    """What the submitted files' annotations say of this allele: each transcript consequence (VEP
    CSQ, bcftools BCSQ, snpEff ANN, read by their headers) and the other INFO values, as written."""
    transcripts: dict[tuple[Any, ...], Any] = {}
    other: dict[tuple[str, str], dict[str, str]] = {}
    for group in q.annotated_alleles(assembly=assembly, region=Region(chrom, pos, pos + len(ref) - 1)):
        formats = annotation_formats(group)
        fields = {f.field_id for f in formats}
        for row in group.rows.to_pylist():
            if (row["pos"], row["ref"], row["alt"]) != (pos, ref, alt):
                continue
            for t in row_transcripts(formats, row):
                transcripts.setdefault((t.gene, t.transcript, t.terms, t.hgvsc, t.hgvsp), t)
            info = json.loads(row["variant_info"])
            for key, value in info.items() if isinstance(info, dict) else ():
                if key not in fields:
                    shown = ",".join(map(str, value)) if isinstance(value, list) else str(value)
                    other.setdefault((key, shown), {"key": key, "value": shown, "meaning": group.headers.get(key, "")})
    ordered = sorted(transcripts.values(), key=lambda t: (not t.canonical, t.rank, t.gene or "", t.transcript or ""))
    return {"transcripts": ordered, "info": list(other.values())}
