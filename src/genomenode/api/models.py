"""Response models: what the OpenAPI schema promises clients."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class HealthOut(BaseModel):
    status: str
    version: str
    datasets: int


class DatasetOut(BaseModel):
    name: str
    assembly: str
    n_samples: int
    n_files: int
    centres: list[str]
    created_at: datetime


class Counts(BaseModel):
    ac: int
    an: int
    af: float | None
    hom: int
    hemi: int


class FrequencyVariant(Counts):
    model_config = ConfigDict(extra="allow")  # carries the stratum column named by `by`
    chrom: str
    pos: int
    ref: str
    alt: str
    filters: list[str]
    rsid: str | None


class FrequencyOut(BaseModel):
    assembly: str
    scope: str
    region: str
    gene: str | None
    by: str | None
    pass_only: bool
    variants: list[FrequencyVariant]


class DatasetCounts(Counts):
    dataset: str


class VariantOut(Counts):
    model_config = ConfigDict(extra="allow")
    variant_id: str
    chrom: str
    pos: int
    ref: str
    alt: str
    assembly: str
    scope: str
    rsid: str | None
    filters: list[str]
    n_files: int
    datasets: list[DatasetCounts]
    strata: dict[str, list[dict[str, object]]]
