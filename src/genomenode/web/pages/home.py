"""The search box, as the gnomAD browser reads it: a variant, an rsID, a gene symbol or a region.

One clear hit goes straight to its page; several (an rsID naming alleles at two positions, a
partial gene symbol) are listed; nothing found says what was tried and what would be read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from genomenode.domain.assembly import Assembly
from genomenode.domain.variant import parse_region, parse_variant
from genomenode.errors import GenomenodeError
from genomenode.query.service import NodeQueries
from genomenode.store.genes import find_gene, symbols_like
from genomenode.web.templating import render

router = APIRouter(include_in_schema=False)
_RSID = re.compile(r"^rs\d+$", re.IGNORECASE)
_VARIANTISH = re.compile(r"^(chr)?[0-9XYM]+[-:_ ]\d+[-:_ ][ACGTN]+[-:_ ][ACGTN]+$", re.IGNORECASE)
_REGIONISH = re.compile(r"^(chr)?[0-9XYM]+:[\d,]+(-[\d,]+)?$", re.IGNORECASE)
_SYMBOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
EXAMPLES = ("CYP2C19", "chr10-94781859-G-A", "rs4244285", "chr22:42126000-42131000", "SCN1A")


@dataclass
class SearchResult:
    redirect: str | None = None
    hits: list[tuple[str, str]] = field(default_factory=list)  # (href, label)
    message: str = ""


def resolve(q: NodeQueries, text: str) -> SearchResult:
    text = " ".join(text.split())
    if not text:
        return SearchResult(message="Type a gene, a variant, an rsID or a region.")
    assembly = _assembly(q)
    if _RSID.match(text):
        ids = q.variants_named(text.lower())
        if len(ids) == 1:
            return SearchResult(redirect=f"/variant/{ids[0]}")
        if ids:
            return SearchResult(hits=[(f"/variant/{v}", v) for v in ids], message=f"{text} names {len(ids)} alleles:")
        return SearchResult(message=f"No allele in the national database carries the id {text}.")
    if _VARIANTISH.match(text):
        try:
            variant = parse_variant(re.sub(r"[:_ ]", "-", text))
        except GenomenodeError as exc:
            return SearchResult(message=str(exc))
        return SearchResult(redirect=f"/variant/{variant.id}")
    if _REGIONISH.match(text):
        try:
            region = parse_region(text)
        except GenomenodeError as exc:
            return SearchResult(message=str(exc))
        return SearchResult(redirect=f"/region/{quote(str(region), safe=':-')}")
    if _SYMBOL.match(text) and assembly is not None:
        try:
            gene = find_gene(assembly, text)
        except GenomenodeError:
            similar = symbols_like(assembly, text)
            return SearchResult(
                hits=[(f"/gene/{s}", s) for s in similar],
                message=f"No gene {text!r} in the {assembly.value} gene models"
                + ("; did you mean:" if similar else "."),
            )
        return SearchResult(redirect=f"/gene/{gene.symbol}")
    return SearchResult(
        message=f"Cannot read {text!r}: try a gene (CYP2C19), a variant (chr10-94781859-G-A), "
        "an rsID (rs4244285) or a region (chr10:94760000-94860000)."
    )


def _assembly(q: NodeQueries) -> Assembly | None:
    assemblies = {d.assembly for d in q.datasets()}
    return Assembly(assemblies.pop()) if len(assemblies) == 1 else (Assembly.GRCh38 if assemblies else None)


@router.get("/")
async def home(request: Request) -> Response:
    datasets = await run_in_threadpool(request.app.state.queries.datasets)
    return render(request, "home.html", title="Search", datasets=datasets, examples=EXAMPLES, query="", result=None)


@router.get("/search")
async def search(request: Request, q: str = "") -> Response:
    queries: NodeQueries = request.app.state.queries
    result = await run_in_threadpool(resolve, queries, q[:200])
    if result.redirect:
        return RedirectResponse(result.redirect, status_code=303)
    datasets = await run_in_threadpool(queries.datasets)
    return render(
        request, "home.html", title=f"Search: {q}", datasets=datasets, examples=EXAMPLES, query=q, result=result
    )
