"""A synthetic national node, ready to use: the cohort ingested centre by centre, a rare-disease
trio at each clinician's region's centre (simulate.demo_families), and one user per role with the
project and grant a demo needs. `genomenode demo` and the tests build it the same way, so what the
README shows is what the tests check; the CLI then opens and analyses the families' cases
(cases.demo), a layer above this one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from genomenode.access import policy, stewardship
from genomenode.access.gate import AccessControl
from genomenode.catalog import sharing
from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.settings import Settings
from genomenode.simulate.cohort import CohortFiles, generate_cohort
from genomenode.simulate.demo_families import DemoFamily, write_demo_families

Progress = Callable[[str, int, int | None], None]
DATASET = "national-demo"
PROJECT = "hmb-cohort-study"
# a second project of the demo researcher with no grant yet: what the portal's access request is for
REQUESTING_PROJECT = "pgx-frequency-study"
DESCRIPTION = (
    "Synthetic national cohort: people simulated with msprime over real GRCh38 gene regions and "
    "pharmacogenomic variants, submitted by five regional centres, with rare-disease trios. "
    "No real person's data."
)
# the demo projects' purpose: health/medical/biomedical genetic research, approved, not commercial
DEMO_PURPOSE = {
    "purpose": "HMB",
    "genetic_study": True,
    "commercial": False,
    "not_for_profit": True,
    "methods_research": False,
    "ethics_approved": True,
    "will_publish": True,
}
DATA_USE = ("HMB",)  # health/medical/biomedical research, as the demo project's purpose
# (user, roles, region, centre): one per role the policy knows, bound where the role is bound
DEMO_USERS: tuple[tuple[str, tuple[policy.Role, ...], str | None, str | None], ...] = (
    ("steward", (policy.Role.STEWARD,), None, None),
    ("admin", (policy.Role.ADMIN,), None, None),
    ("clinician-stockholm", (policy.Role.CLINICIAN,), "stockholm", None),
    ("clinician-skane", (policy.Role.CLINICIAN,), "skane", None),
    ("researcher", (policy.Role.RESEARCHER, policy.Role.REGISTERED), None, None),
    ("registered", (policy.Role.REGISTERED,), None, None),
    ("submitter-stockholm", (policy.Role.SUBMITTER,), None, "stockholm"),
)


@dataclass(frozen=True)
class DemoNode:
    cohort: CohortFiles
    users: tuple[str, ...]
    families: tuple[DemoFamily, ...] = ()  # ingested; their cases are opened by cases.demo


def ingest_cohort(settings: Settings, *, individuals: int, seed: int, progress: Progress | None = None) -> CohortFiles:
    """Generate the cohort and ingest each centre's VCF with its own rows of the sample sheet."""
    out = settings.data_dir / "demo-submissions"
    cohort = generate_cohort(out, individuals=individuals, seed=seed, progress=progress)
    for centre, path in sorted(cohort.vcfs.items()):
        ingest(
            settings,
            IngestRequest(
                files=[path],
                dataset=DATASET,
                centre=centre,
                sample_sheet=_centre_sheet(cohort.sample_sheet, centre, out),
                command="genomenode demo",
            ),
            progress=progress,
        )
    return cohort


def ingest_families(settings: Settings, *, progress: Progress | None = None) -> tuple[DemoFamily, ...]:
    """Each demo family's VCF, sent by its region's centre into the demo dataset."""
    families = write_demo_families(settings.data_dir / "demo-families", dataset=DATASET)
    for family in families:
        ingest(
            settings,
            IngestRequest(
                files=[family.vcf],
                dataset=DATASET,
                centre=family.region,
                sample_sheet=family.sheet,
                command="genomenode demo",
            ),
            progress=progress,
        )
    return tuple(families)


def add_demo_access(settings: Settings) -> tuple[str, ...]:
    """One user per role, a project with a health/medical/biomedical purpose and its grant, a second
    project of the researcher with no grant (to request), and the dataset's terms and description."""
    gate = AccessControl(settings)
    try:
        with gate.Session() as s, s.begin():
            for name, roles, region, centre in DEMO_USERS:
                sharing.upsert_user(
                    s,
                    issuer=settings.public_url,
                    subject=name,
                    roles=[r.value for r in roles],
                    name=name,
                    region=region,
                    centre=centre,
                )
        steward = gate.caller_for_token(gate.issue_token(issuer=settings.public_url, subject="steward"))
        purpose = dict(DEMO_PURPOSE)
        stewardship.create_project(gate, steward, name=PROJECT, purpose=purpose)
        stewardship.add_member(gate, steward, project=PROJECT, subject="researcher")
        stewardship.grant(gate, steward, project=PROJECT, dataset=DATASET)
        stewardship.create_project(gate, steward, name=REQUESTING_PROJECT, purpose=purpose)
        stewardship.add_member(gate, steward, project=REQUESTING_PROJECT, subject="researcher")
        stewardship.set_dataset_policy(gate, steward, dataset=DATASET, level=None, data_use=list(DATA_USE))
        with gate.Session() as s, s.begin():
            sharing.describe_dataset(s, name=DATASET, description=DESCRIPTION)
    finally:
        gate.close()
    return tuple(name for name, *_ in DEMO_USERS)


def build_demo_node(
    settings: Settings, *, individuals: int = 600, seed: int = 7, progress: Progress | None = None
) -> DemoNode:
    cohort = ingest_cohort(settings, individuals=individuals, seed=seed, progress=progress)
    families = ingest_families(settings, progress=progress)
    return DemoNode(cohort, add_demo_access(settings), families)


def _centre_sheet(sheet: Path, centre: str, out: Path) -> Path:
    """Each centre submits the rows of its own people, as it would in production."""
    lines = sheet.read_text().splitlines()
    header = lines[0].split("\t")
    col = header.index("centre")
    target = out / f"samples-{centre}.tsv"
    target.write_text("\n".join([lines[0], *[ln for ln in lines[1:] if ln.split("\t")[col] == centre]]) + "\n")
    return target
