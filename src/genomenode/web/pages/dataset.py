"""Dataset pages: what each dataset holds, on what terms, and its versions.

People counts per region, population and sex are aggregates: a caller below CONTROLLED sees
them with small counts hidden, and with whatever else would let a hidden count be worked out
from the totals (access.table_suppression), exactly as the API's PGx summary does.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from genomenode.access.duo import load_duo
from genomenode.access.table_suppression import frequency_table, suppress_linked_cells
from genomenode.catalog.dataset_profile import DatasetProfile, dataset_profile
from genomenode.errors import GenomenodeError
from genomenode.web.session import PortalCaller, gate_of
from genomenode.web.templating import render

router = APIRouter(include_in_schema=False)
LEVEL_TEXT = {
    "PUBLIC": "Open: aggregates for anyone",
    "REGISTERED": "Registered: aggregates for registered researchers; small counts hidden for the public",
    "CONTROLLED": "Controlled: individual-level data only for approved projects and the person's own care; "
    "small counts hidden for everyone else",
}


@router.get("/dataset")
async def dataset_list(request: Request) -> Response:
    datasets = await run_in_threadpool(request.app.state.queries.datasets)
    return render(request, "datasets.html", title="Datasets", datasets=datasets)


@router.get("/dataset/{name}")
async def dataset_page(request: Request, name: str, caller: PortalCaller) -> Response:
    gate = gate_of(request)

    def load() -> tuple[DatasetProfile, int | None]:
        with gate.Session() as s:
            profile = dataset_profile(s, name)
        return profile, gate.floor_for(caller, name)

    profile, floor = await run_in_threadpool(load)
    return render(
        request,
        "dataset.html",
        title=f"Dataset {profile.name}",
        dataset=profile,
        level_text=LEVEL_TEXT.get(profile.security_level, profile.security_level),
        terms=[describe_duo(code) for code in profile.data_use],
        people=people_table(profile.people, floor=floor),
        floor=floor,
    )


def describe_duo(code: str) -> dict[str, str]:
    """A DUO code as the page shows it: the code, the term's label and its definition."""
    head = code.split(":", 1)[0] if not code.upper().startswith("DUO:") else ":".join(code.split(":")[:2])
    try:
        term = load_duo().term(head)
    except (GenomenodeError, KeyError, ValueError):
        return {"code": code, "label": "", "definition": ""}
    return {"code": code, "label": term.label, "definition": term.definition}


def people_table(people: Counter[tuple[str, str, str]], *, floor: int | None) -> dict[str, Any]:
    """People by sex overall, per region and per population, with linked small counts hidden."""
    regions = sorted({r for r, _, _ in people})
    populations = sorted({p for _, p, _ in people})
    sexes = sorted({s for _, _, s in people}) or ["unknown"]
    layout = frequency_table({"region": regions or ["unknown"], "population": populations or ["unknown"]}, sexes)
    width = len(layout.columns)
    counts = np.zeros((len(layout.groups), width), np.int64)
    row = {g: i for i, g in enumerate(layout.groups)}
    for (region, population, sex), n in people.items():
        for r in (0, row[("region", region)], row[("population", population)]):
            counts[r, sexes.index(sex)] += n
            counts[r, width - 1] += n
    flat = counts.reshape(-1)
    hidden = np.zeros(flat.shape, bool) if floor is None else suppress_linked_cells(flat, layout.equations, floor=floor)
    cells = np.where(hidden, -1, flat).reshape(counts.shape)
    return {
        "columns": list(layout.columns),
        "rows": [
            {"partition": p, "member": m, "cells": [None if v < 0 else int(v) for v in cells[i]]}
            for i, (p, m) in enumerate(layout.groups)
        ],
        "any_hidden": bool(hidden.any()),
    }
