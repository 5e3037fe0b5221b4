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
    ac: int | None  # null: hidden from this caller (small count, or one that would reveal one)
    an: int
    af: float | None
    hom: int | None
    hemi: int | None
    suppressed: bool = False


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


class CallerOut(BaseModel):
    authenticated: bool
    issuer: str | None
    subject: str | None
    roles: list[str]
    region: str | None
    centre: str | None
    projects: list[str]
    visa_datasets: list[str]


class SampleOut(BaseModel):
    dataset: str
    sample: str | None  # the centre's sample name; null for project access


class IndividualOut(BaseModel):
    id: str
    sex: str
    samples: list[SampleOut]
    regions: list[str]
    consent: list[str] | None
    consent_status: str | None


class GenotypeOut(BaseModel):
    sample: str
    chrom: str
    pos: int
    ref: str
    alt: str
    genotype: str
    dp: int | None
    gq: int | None
    ad: list[int] | None


class GenotypesOut(BaseModel):
    individual: str
    assembly: str
    region: str
    calls: list[GenotypeOut]


class ProjectIn(BaseModel):
    name: str
    purpose: dict[str, object] = {}


class MemberIn(BaseModel):
    subject: str
    issuer: str | None = None  # default: this node


class GrantIn(BaseModel):
    dataset: str
    expires_at: datetime | None = None


class ConsentIn(BaseModel):
    codes: list[str]
    signed_on: datetime | None = None
    source: str = ""


class DoneOut(BaseModel):
    status: str
    detail: dict[str, object] = {}
