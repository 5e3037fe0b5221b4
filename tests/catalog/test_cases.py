"""The cases table: names unique, JSON columns round-trip, results stored, erasure unlinks samples."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from genomenode.catalog import cases
from genomenode.catalog.database import session_factory
from genomenode.catalog.models import Dataset
from genomenode.errors import InputError, NotFoundError


def _members(*samples: int | None) -> list[dict[str, object]]:
    ids = ("child", "father", "mother")
    return [
        {
            "id": ids[i],
            "sample": code,
            "father": "father" if i == 0 else None,
            "mother": "mother" if i == 0 else None,
            "sex": ("male", "male", "female")[i],
            "affection": "affected" if i == 0 else "unaffected",
        }
        for i, code in enumerate(samples)
    ]


def _add(s: object, name: str, dataset_id: int, *samples: int | None) -> None:
    cases.add_case(
        s,  # type: ignore[arg-type]
        name=name,
        dataset_id=dataset_id,
        region="stockholm",
        members=_members(*samples),
        proband="child",
        hpo=["HP:0001250"],
        panel={"format": "tsv", "name": "p", "source": "p.tsv", "content": "Gene Symbol\nSCN1A\n"},
        panel_level="amber",
        created_by="test|dr",
    )


def test_cases__round_trip_and_names_are_unique(engine: Engine) -> None:
    Session = session_factory(engine)
    with Session() as s, s.begin():
        dataset = Dataset(name="rd", assembly="GRCh38")
        s.add(dataset)
        s.flush()
        _add(s, "trio-1", dataset.id, 1, 2, 3)
    with Session() as s:
        row = cases.get_case(s, "trio-1")
        assert (row.dataset, row.assembly, row.proband, row.hpo, row.panel_level) == (
            "rd",
            "GRCh38",
            "child",
            ("HP:0001250",),
            "amber",
        )
        assert row.samples == {"child": 1, "father": 2, "mother": 3}
        assert row.panel is not None and row.panel["name"] == "p"
        assert row.result is None and row.analysed_at is None
        assert row.created_at.tzinfo is not None
    with Session() as s, s.begin(), pytest.raises(InputError, match="exists already"):
        _add(s, "trio-1", dataset.id, 4, 5, 6)
    with Session() as s, pytest.raises(NotFoundError):
        cases.get_case(s, "trio-2")


def test_cases__a_stored_result_is_the_latest_and_erasure_drops_it_with_the_link(engine: Engine) -> None:
    Session = session_factory(engine)
    with Session() as s, s.begin():
        dataset = Dataset(name="rd", assembly="GRCh38")
        s.add(dataset)
        s.flush()
        _add(s, "trio-1", dataset.id, 1, 2, 3)
        _add(s, "other", dataset.id, 7, 8, 9)
    when = datetime(2026, 12, 1, tzinfo=UTC)
    with Session() as s, s.begin():
        cases.store_result(
            s, "trio-1", result={"candidates": [1]}, settings={"a": 1}, analysed_by="x", analysed_at=when
        )
        cases.store_result(s, "other", result={"candidates": [2]}, settings={"a": 2}, analysed_by="y", analysed_at=when)
    with Session() as s:
        row = cases.get_case(s, "trio-1")
        assert (row.result, row.settings, row.analysed_by, row.analysed_at) == (
            {"candidates": [1]},
            {"a": 1},
            "x",
            when,
        )
    # WHEN the father (sample 2) is erased
    with Session() as s, s.begin():
        assert cases.forget_samples(s, [2]) == ["trio-1"]
    with Session() as s:
        row = cases.get_case(s, "trio-1")
        assert row.samples == {"child": 1, "father": None, "mother": 3}
        assert row.result is None and row.analysed_at is None
        assert cases.get_case(s, "other").result == {"candidates": [2]}  # untouched
