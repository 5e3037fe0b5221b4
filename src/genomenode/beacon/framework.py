"""What the beacon says about itself: identity, entry types, map, configuration, service-info.

One table (`ENTRY_TYPES`) names every entry type once, with its path, its default schema and the
ontology term that defines it; `/api/map`, `/api/entry_types` and `/api/configuration` are all
read from it, so they cannot disagree (Beacon v2 framework, configuration/*.json).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genomenode.beacon.request import API_VERSION

SCHEMA_BASE = "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/"


@dataclass(frozen=True)
class BeaconIdentity:
    """Who this beacon is; the node's settings fill it (beacon_id is reverse-domain, e.g. se.gms.beacon)."""

    beacon_id: str
    name: str
    public_url: str
    organisation_id: str
    organisation_name: str
    description: str = "A national genome node's GA4GH Beacon v2: variants, individuals and datasets."
    version: str = "0.1.0"
    environment: str = "dev"  # prod, test, dev or staging, as service-info asks
    security_levels: tuple[str, ...] = ("PUBLIC", "REGISTERED", "CONTROLLED")

    @property
    def api_url(self) -> str:
        return self.public_url.rstrip("/") + "/api"


@dataclass(frozen=True)
class EntryType:
    path: str  # the endpoint: g_variants, individuals, ...
    id: str  # the entry type id: genomicVariation, individual, ...
    name: str
    ontology_id: str
    ontology_label: str
    model_folder: str  # folder of its default schema in the Beacon v2 default model
    collection: bool = False  # datasets and cohorts are collections, the rest results
    description: str = ""

    @property
    def schema_url(self) -> str:
        return f"{SCHEMA_BASE}models/json/beacon-v2-default-model/{self.model_folder}/defaultSchema.json"

    @property
    def schema_name(self) -> str:
        return f"beacon-{self.id}-v2.0.0"


ENTRY_TYPES: dict[str, EntryType] = {
    e.path: e
    for e in (
        EntryType(
            "g_variants",
            "genomicVariation",
            "Genomic variants",
            "SO:0001059",
            "sequence_alteration",
            "genomicVariations",
            description="Normalised alleles with their national and per-dataset frequencies.",
        ),
        EntryType(
            "individuals",
            "individual",
            "Individuals",
            "NCIT:C25190",
            "Person",
            "individuals",
            description="People whose genomes the node holds, with sex, phenotypes and diseases.",
        ),
        EntryType(
            "biosamples",
            "biosample",
            "Biosamples",
            "NCIT:C70699",
            "Biospecimen",
            "biosamples",
            description="Samples taken from individuals and sequenced.",
        ),
        EntryType(
            "runs",
            "run",
            "Sequencing runs",
            "NCIT:C148088",
            "Sequencing run",
            "runs",
            description="The sequencing behind each sample's submitted VCF.",
        ),
        EntryType(
            "analyses",
            "analysis",
            "Analyses",
            "edam:operation_2945",
            "Analysis",
            "analyses",
            description="Variant calling that produced each submitted VCF.",
        ),
        EntryType(
            "datasets",
            "dataset",
            "Datasets",
            "NCIT:C47824",
            "Data set",
            "datasets",
            collection=True,
            description="Collections of genomes under one security level and data-use conditions.",
        ),
        EntryType(
            "cohorts",
            "cohort",
            "Cohorts",
            "NCIT:C61512",
            "Cohort",
            "cohorts",
            collection=True,
            description="The people submitted by each regional centre.",
        ),
    )
}

# the lookups this beacon answers: `/{path}/{id}/{other}` (the map lists exactly these)
CROSS_LOOKUPS: dict[str, tuple[str, ...]] = {
    "g_variants": ("individuals", "biosamples", "runs", "analyses"),  # the people carrying the variant
    "datasets": ("g_variants", "individuals", "biosamples", "runs", "analyses"),
    "cohorts": ("individuals", "biosamples", "runs", "analyses"),
    "individuals": ("g_variants",),  # a person's own alleles, for who may see them
}


def informational_meta(identity: BeaconIdentity) -> dict[str, Any]:
    return {"beaconId": identity.beacon_id, "apiVersion": API_VERSION, "returnedSchemas": []}


def info(identity: BeaconIdentity) -> dict[str, Any]:
    """`/api` and `/api/info` (beaconInfoResponse)."""
    return {
        "meta": informational_meta(identity),
        "response": {
            "id": identity.beacon_id,
            "name": identity.name,
            "apiVersion": API_VERSION,
            "environment": identity.environment,
            "organization": {"id": identity.organisation_id, "name": identity.organisation_name},
            "description": identity.description,
            "version": identity.version,
            "welcomeUrl": identity.public_url,
        },
    }


def service_info(identity: BeaconIdentity) -> dict[str, Any]:
    """`/api/service-info`, the GA4GH service-info 1.0 document."""
    return {
        "id": identity.beacon_id,
        "name": identity.name,
        "type": {"group": "org.ga4gh", "artifact": "beacon", "version": API_VERSION},
        "description": identity.description,
        "organization": {"name": identity.organisation_name, "url": identity.public_url},
        "version": identity.version,
        "environment": identity.environment,
    }


def _entry_type_definition(e: EntryType) -> dict[str, Any]:
    return {
        "id": e.id,
        "name": e.name,
        "ontologyTermForThisType": {"id": e.ontology_id, "label": e.ontology_label},
        "partOfSpecification": f"Beacon {API_VERSION}",
        "description": e.description,
        "defaultSchema": {"id": e.schema_name, "name": f"Default schema for {e.name.lower()}",
                          "referenceToSchemaDefinition": e.schema_url, "schemaVersion": API_VERSION},
        "additionallySupportedSchemas": [],
        "nonFilteredQueriesAllowed": True,
    }  # fmt: skip


def entry_types(identity: BeaconIdentity) -> dict[str, Any]:
    return {
        "meta": informational_meta(identity),
        "response": {"entryTypes": {e.id: _entry_type_definition(e) for e in ENTRY_TYPES.values()}},
    }


def configuration(identity: BeaconIdentity) -> dict[str, Any]:
    return {
        "meta": informational_meta(identity),
        "response": {
            "$schema": f"{SCHEMA_BASE}framework/json/configuration/beaconConfigurationSchema.json",
            "maturityAttributes": {"productionStatus": identity.environment.upper()},
            "securityAttributes": {
                "defaultGranularity": "boolean",
                "securityLevels": list(identity.security_levels),
            },
            "entryTypes": {e.id: _entry_type_definition(e) for e in ENTRY_TYPES.values()},
        },
    }


def beacon_map(identity: BeaconIdentity) -> dict[str, Any]:
    base = identity.api_url
    endpoints: dict[str, Any] = {}
    for e in ENTRY_TYPES.values():
        endpoints[e.id] = {
            "entryType": e.id,
            "rootUrl": f"{base}/{e.path}",
            "singleEntryUrl": f"{base}/{e.path}/{{id}}",
            "endpoints": {
                ENTRY_TYPES[other].id: {
                    "returnedEntryType": ENTRY_TYPES[other].id,
                    "url": f"{base}/{e.path}/{{id}}/{other}",
                }
                for other in CROSS_LOOKUPS.get(e.path, ())
            },
        }
    return {
        "meta": informational_meta(identity),
        "response": {"$schema": f"{SCHEMA_BASE}framework/json/configuration/beaconMapSchema.json",
                     "endpointSets": endpoints},
    }  # fmt: skip
