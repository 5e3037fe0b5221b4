"""Individual-level routes: a person's record and genotypes, for whoever policy lets see them.

Another region's person, a person outside the caller's project, or a person who does not exist
all get the same 404 with the same body (OWASP API1). The audit entry is written before the
data is returned: if it cannot be written, AuditUnavailableError makes it a 503 and nothing leaves.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from genomenode.access.gate import AccessControl, Individual
from genomenode.api.models import GenotypesOut, IndividualOut
from genomenode.api.security import AuthenticatedCaller, Gate
from genomenode.domain.variant import Region, parse_region
from genomenode.errors import InputError
from genomenode.query.service import NodeQueries

router = APIRouter(tags=["individuals"])

Project = Annotated[
    str | None, Query(description="Act for this research project: ids are the project's own pseudonyms")
]


def _out(person: Individual, project: str | None) -> dict[str, Any]:
    """The record as this caller may see it: a project never gets the centre's sample names,
    which the centre could link back to the person (OWASP API3)."""
    row = person.row
    return {
        "id": person.id,
        "sex": row.sex,
        "samples": [{"dataset": d, "sample": None if project else name} for _, d, name in row.samples],
        "regions": sorted(row.regions),
        "consent": list(row.consent_codes) if row.consent_codes is not None else None,
        "consent_status": row.consent_status,
    }


@router.get("/individuals", response_model=list[IndividualOut])
async def list_individuals(caller: AuthenticatedCaller, gate: Gate, request: Request, project: Project = None) -> Any:
    """The people the caller may see: a clinician's region, a project's consented people, or all
    for a steward."""
    people = await run_in_threadpool(gate.individuals, caller, project=project)
    gate.record(caller, "read.individuals", target=project or "node", request_id=request_id(request), count=len(people))
    return [_out(p, project) for p in people]


@router.get("/individuals/{individual_id}", response_model=IndividualOut)
async def get_individual(
    individual_id: str, caller: AuthenticatedCaller, gate: Gate, request: Request, project: Project = None
) -> Any:
    person = await run_in_threadpool(gate.individual, caller, individual_id, project=project)
    gate.record(caller, "read.individual", target=person.row.pseudonym, request_id=request_id(request), project=project)
    return _out(person, project)


@router.get("/individuals/{individual_id}/genotypes", response_model=GenotypesOut)
async def get_genotypes(
    individual_id: str,
    caller: AuthenticatedCaller,
    gate: Gate,
    request: Request,
    region: Annotated[str | None, Query(description="chr1:100-2000, 1-based inclusive")] = None,
    gene: Annotated[str | None, Query(description="GENCODE gene symbol")] = None,
    project: Project = None,
) -> Any:
    """The person's stored non-reference and missing calls in a region or gene."""
    if (region is None) == (gene is None):
        raise InputError("give exactly one of region or gene")
    person = await run_in_threadpool(gate.individual, caller, individual_id, project=project)
    q: NodeQueries = request.app.state.queries
    return await run_in_threadpool(_genotypes, q, gate, person, caller, region, gene, project, request_id(request))


def _genotypes(
    q: NodeQueries,
    gate: AccessControl,
    person: Individual,
    caller: Any,
    region: str | None,
    gene: str | None,
    project: str | None,
    request_id: str | None,
) -> dict[str, Any]:
    assemblies = {d.name: d.assembly for d in q.datasets()}
    by_assembly: dict[str, dict[int, str]] = {}
    for code, dataset, name in person.row.samples:
        by_assembly.setdefault(assemblies[dataset], {})[code] = person.id if project else name
    if len(by_assembly) != 1:
        raise InputError("the person's samples are on more than one assembly; ask per dataset")
    [(assembly, samples)] = by_assembly.items()
    where: Region = parse_region(region) if region else q.gene_region(assembly, gene or "")
    # the audit entry first: if it cannot be written, nothing individual-level is read or sent
    gate.record(
        caller, "read.genotypes", target=person.row.pseudonym, request_id=request_id, region=str(where), project=project
    )
    calls = q.genotypes(assembly=assembly, region=where, samples=samples)
    return {"individual": person.id, "assembly": assembly, "region": str(where), "calls": calls}


def request_id(request: Request) -> str | None:
    """The caller's X-Request-ID, for matching audit entries to their logs (kept short and printable)."""
    rid = request.headers.get("x-request-id")
    return "".join(ch for ch in rid[:128] if ch.isprintable()) if rid else None
