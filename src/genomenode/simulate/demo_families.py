"""Rare-disease families for the demo node: one trio per clinician's region, each with a planted
diagnosis among decoys, so the portal has cases to review on `make demo` data.

The trios come from simulate.family (real gene coordinates, planted genotypes, a PED). Each family
is what its region's centre would send: a VCF and sample-sheet rows (centre, sex, population, the
child's HPO terms and diagnosis). Their sample names are distinct per family and unlike the
cohort's, and the sheet gives no research consent: they are diagnostic patients, seen by their
region's clinicians and the steward, not by research projects. Creating and analysing the cases
is done above this layer (cases.demo), since simulate may not import cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from genomenode.simulate.family import EXAMPLE, Planted, write_family
from genomenode.store.hpo import hpo_path, load_hpo
from genomenode.store.hpo_annotations import annotations_path, load_annotations

SHEET_COLUMNS = ("sample_id", "subject_id", "sex", "population", "centre", "consent", "phenotypes", "diseases", "age")
PHENOTYPIC_ABNORMALITY = "HP:0000118"


@dataclass(frozen=True)
class FamilyPlan:
    region: str  # the centre that sends it, in the region whose clinician reviews it
    code: str  # short tag in the sample names
    disease: str  # OMIM id: the child's diagnosis and where its HPO terms come from
    gene: str  # the planted diagnosis' gene, expected to rank first
    planted: tuple[Planted, ...]
    child_sex: int  # 1 male, 2 female


DEMO_PLANS = (
    # Dravet syndrome: the `case example` trio, a de novo SCN1A stop-gain among decoys
    FamilyPlan("stockholm", "STO", "OMIM:607208", "SCN1A", tuple(EXAMPLE), 1),
    # cystic fibrosis: a homozygous CFTR frameshift from two carrier parents, with a de novo TTN
    # missense, an inherited SCN1A variant and a single USH2A allele beside it
    FamilyPlan(
        "skane",
        "SKA",
        "OMIM:219700",
        "CFTR",
        (
            Planted("CFTR", ("1/1", "0/1", "0/1"), ref="C", alt="CT", csq="frameshift_variant|HIGH|p.Phe508fs|HC|0.1"),
            Planted("SCN1A", ("0/1", "0/1", "0/0"), offset=40),
            Planted("TTN", ("0/1", "0/0", "0/0"), offset=21, csq="missense_variant|MODERATE|p.Gly1000Asp||0.0"),
            Planted("USH2A", ("0/1", "0/0", "0/1"), offset=-9),
        ),
        2,
    ),
)


@dataclass(frozen=True)
class DemoFamily:
    case: str  # the case's name in the catalog
    region: str
    dataset: str
    vcf: Path
    ped: Path
    sheet: Path
    proband: str
    hpo: tuple[str, ...]
    gene: str


def case_name(region: str) -> str:
    return f"family-{region}"


def write_demo_families(out: Path, *, dataset: str) -> list[DemoFamily]:
    """Each plan's VCF, PED and sample sheet in `out/<region>/`."""
    annotations, ontology = load_annotations(annotations_path()), load_hpo(hpo_path())
    families = []
    for plan in DEMO_PLANS:
        folder = out / plan.region
        folder.mkdir(parents=True, exist_ok=True)
        members = tuple(f"RD-{plan.code}-{role}" for role in ("child", "father", "mother"))
        child, father, mother = members
        vcf, ped = write_family(
            folder,
            list(plan.planted),
            members=(child, father, mother),
            family_id=f"RD-{plan.code}",
            child_sex=plan.child_sex,
        )
        terms = [t for t in annotations.disease_terms[plan.disease] if PHENOTYPIC_ABNORMALITY in ontology.ancestors(t)]
        hpo = tuple(terms[:8])
        rows = [
            (child, "male" if plan.child_sex == 1 else "female", ";".join(hpo), plan.disease, "6"),
            (father, "male", "", "", "38"),
            (mother, "female", "", "", "36"),
        ]
        sheet = folder / "samples.tsv"
        lines = ["\t".join(SHEET_COLUMNS)]
        for sample, sex, phenotypes, disease, age in rows:
            subject = f"demo-{sample.lower()}"
            lines.append("\t".join((sample, subject, sex, "NFE", plan.region, "", phenotypes, disease, age)))
        sheet.write_text("\n".join(lines) + "\n")
        families.append(
            DemoFamily(case_name(plan.region), plan.region, dataset, vcf, ped, sheet, child, hpo, plan.gene)
        )
    return families
