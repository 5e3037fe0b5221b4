"""Gene and region pages: every allele in the span with its national frequency, sortable,
filterable and paged, and a track of the alleles along the gene's exons."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from genomenode.domain.assembly import Assembly
from genomenode.domain.variant import parse_region
from genomenode.errors import InputError
from genomenode.query.frequencies import FrequencyRow
from genomenode.query.service import FrequencyAnswer, NodeQueries
from genomenode.store.genes import genes_overlapping
from genomenode.store.transcripts import gene_exons
from genomenode.web.charts import gene_track
from genomenode.web.paging import link, paginate
from genomenode.web.session import PortalCaller, gate_of
from genomenode.web.templating import frequency, render

router = APIRouter(include_in_schema=False)
MAX_REGION = 5_000_000  # a region page reads every allele in it; a chromosome is the Beacon's job
SORT_KEYS: dict[str, Any] = {
    "pos": lambda r: (r.pos, r.ref, r.alt),
    "af": lambda r: r.af,
    "ac": lambda r: r.ac,
    "an": lambda r: r.an,
    "hom": lambda r: r.hom,
    "id": lambda r: r.rsid,
}
TRACK_LIMIT = 5_000  # ticks drawn; the table pages through all of them


def _variant_id(r: FrequencyRow) -> str:
    return f"{r.chrom}-{r.pos}-{r.ref}-{r.alt}"


def _keep(params: dict[str, Any]) -> Any:
    text = (params.get("filter") or "").strip().lower()
    min_af = params.get("min_af")
    max_af = params.get("max_af")
    pass_only = bool(params.get("pass_only"))
    kind = params.get("kind") or ""

    def keep(r: FrequencyRow) -> bool:
        if text and text not in _variant_id(r).lower() and text not in (r.rsid or "").lower():
            return False
        if pass_only and r.filters:
            return False
        if min_af is not None and (r.af is None or r.af < min_af):
            return False
        if max_af is not None and (r.af is None or r.af > max_af):
            return False
        if kind == "snv" and not (len(r.ref) == 1 and len(r.alt) == 1):
            return False
        return not (kind == "indel" and len(r.ref) == len(r.alt))

    return keep


def _number(value: str | None, name: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise InputError(f"{name} {value!r}: give a number such as 0.01") from exc


async def _locus_page(request: Request, caller: Any, *, gene: str | None, region: str | None) -> Response:
    q: NodeQueries = request.app.state.queries
    qp = request.query_params
    params: dict[str, Any] = {
        "sort": qp.get("sort", "pos"),
        "dir": qp.get("dir", "asc"),
        "page": qp.get("page", "1"),
        "size": qp.get("size", "50"),
        "filter": qp.get("filter", ""),
        "min_af": _number(qp.get("min_af"), "min_af"),
        "max_af": _number(qp.get("max_af"), "max_af"),
        "pass_only": qp.get("pass_only", ""),
        "kind": qp.get("kind", ""),
    }
    parsed = parse_region(region) if region else None
    if parsed is not None and parsed.end - parsed.start + 1 > MAX_REGION:
        raise InputError(f"region {region} spans more than {MAX_REGION:,} bases: give a smaller region or a gene")

    def load() -> tuple[FrequencyAnswer, tuple[tuple[int, int], ...], list[Any]]:
        floor = gate_of(request).floor_for(caller, None)
        answer = q.frequencies(region=parsed, gene=gene, floor=floor)
        assembly = Assembly(answer.assembly)
        exons = gene_exons(assembly, answer.gene.symbol) if answer.gene else ()
        r = answer.region
        genes = [] if answer.gene else genes_overlapping(assembly, r.chrom, r.start, r.end, limit=40)
        return answer, exons, genes

    answer, exons, genes = await run_in_threadpool(load)
    try:
        page_no, size = int(params["page"]), int(params["size"])
    except ValueError as exc:
        raise InputError("page and size must be whole numbers") from exc
    page = paginate(
        answer.rows,
        keys=SORT_KEYS,
        sort=params["sort"],
        descending=params["dir"] == "desc",
        page=page_no,
        size=size,
        keep=_keep(params),
    )
    shown = [r for r in answer.rows if _keep(params)(r)][:TRACK_LIMIT]
    r = answer.region
    track = gene_track(
        start=r.start,
        end=r.end,
        exons=exons,
        variants=[
            (v.pos, v.af, f"/variant/{_variant_id(v)}", f"{_variant_id(v)} AF {frequency(v.af)}", bool(v.filters))
            for v in shown
        ],
        title=f"{len(shown)} alleles along {answer.gene.symbol if answer.gene else str(r)}",
    )
    base = {k: v for k, v in params.items() if k != "page"}
    return render(
        request,
        "locus.html",
        title=answer.gene.symbol if answer.gene else str(r),
        answer=answer,
        gene=answer.gene,
        genes=genes,
        page=page,
        params=params,
        base=base,
        link=link,
        track=track,
        track_cut=len(shown) >= TRACK_LIMIT,
        variant_id=_variant_id,
        exon_count=len(exons),
    )


@router.get("/gene/{symbol}")
async def gene_page(request: Request, symbol: str, caller: PortalCaller) -> Response:
    return await _locus_page(request, caller, gene=symbol, region=None)


@router.get("/region/{region}")
async def region_page(request: Request, region: str, caller: PortalCaller) -> Response:
    return await _locus_page(request, caller, gene=None, region=region)
