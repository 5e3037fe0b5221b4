"""The Shringarpure-Bustamante membership attack against the node's own public beacon.

GIVEN a simulated national cohort (msprime), three regions' people in the beacon and two regions'
people outside it, an attacker who holds target genomes and allele frequencies from a reference
panel (half of the outsiders), and asks the public beacon, for each target, whether each of the
target's rarest alleles is there;
WHEN the attacker scores each target with the likelihood-ratio test of Shringarpure & Bustamante
(2015) and calls "member" above the 95th percentile of the outsiders' scores,
THEN without defences nearly every member is found, and with the per-individual query budget
(Raisaro et al. 2017) the attack does no better than chance.

The powers measured are printed (`pytest -s`) and quoted in docs/security.md.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from genomenode.access import policy
from genomenode.access.gate import AccessControl
from genomenode.api.app import beacon_identity
from genomenode.beacon.request import from_query
from genomenode.beacon.service import BeaconService
from genomenode.ingest.normalize import trim
from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.query.service import NodeQueries
from genomenode.settings import Settings
from genomenode.simulate.cohort import generate_cohort
from genomenode.simulate.national import _centre_sheet

MEMBER_CENTRES = ("stockholm", "vastra-gotaland", "skane")
TARGETS = 20  # members and outsiders each
QUERIES = 40  # rarest alleles of each target asked about
ERROR = 1e-6  # the attacker's allowance for sequencing error (δ)


@dataclass
class Genomes:
    alleles: list[tuple[str, int, str, str]]
    carried: npt.NDArray[np.bool_]  # alleles × people: carries at least one copy


@dataclass
class World:
    settings: Settings
    members: Genomes
    outsiders: Genomes
    panel_frequency: dict[tuple[str, int, str, str], float]
    n_members: int


def _genomes(vcfs: list[Path]) -> Genomes:
    bcftools = shutil.which("bcftools")
    assert bcftools
    keys: list[tuple[str, int, str, str]] = []
    rows: list[npt.NDArray[np.bool_]] = []
    for vcf in vcfs:
        norm = subprocess.run([bcftools, "norm", "-m-", "-Ou", str(vcf)], check=True, capture_output=True)
        out = subprocess.run(
            [bcftools, "query", "-f", "%CHROM\t%POS\t%REF\t%ALT[\t%GT]\n", "-"],
            input=norm.stdout,
            check=True,
            capture_output=True,
        ).stdout.decode()
        table: dict[tuple[str, int, str, str], npt.NDArray[np.bool_]] = {}
        for line in out.splitlines():
            chrom, pos, ref, alt, *gts = line.split("\t")
            p, r, a = trim(int(pos), ref, alt)
            table[(chrom, p, r, a)] = np.array(["1" in g for g in gts])
        keys.append(tuple(table))  # type: ignore[arg-type]
        rows.append(np.stack(list(table.values())) if table else np.zeros((0, 0), np.bool_))
    # each file is variant-only: a site missing from one file is one nobody there carries
    every = sorted(set().union(*(set(k) for k in keys)))
    at = {k: i for i, k in enumerate(every)}
    blocks = []
    for ks, r in zip(keys, rows, strict=True):
        block = np.zeros((len(every), r.shape[1]), np.bool_)
        block[[at[k] for k in ks]] = r
        blocks.append(block)
    return Genomes(every, np.concatenate(blocks, axis=1))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    work = tmp_path_factory.mktemp("attack")
    cohort = generate_cohort(work / "cohort", individuals=500, seed=23)
    settings = Settings(data_dir=work / "node")
    members = [c for c in MEMBER_CENTRES if c in cohort.vcfs]
    for centre in members:
        sheet = _centre_sheet(cohort.sample_sheet, centre, work)
        ingest(settings, IngestRequest(files=[cohort.vcfs[centre]], dataset="national", centre=centre,
                                       sample_sheet=sheet))  # fmt: skip
    inside = _genomes([cohort.vcfs[c] for c in members])
    outside = _genomes([p for c, p in sorted(cohort.vcfs.items()) if c not in MEMBER_CENTRES])
    rng = np.random.default_rng(5)
    order = rng.permutation(outside.carried.shape[1])
    panel, targets = order[TARGETS:], order[:TARGETS]
    allele_count = outside.carried[:, panel].sum(axis=1)  # carriers, a lower bound on copies
    floor = 1 / (2 * len(panel) + 2)  # an allele the panel lacks is taken as rarer than any it has
    frequency = {k: max(float(c) / (2 * len(panel)), floor) for k, c in zip(outside.alleles, allele_count, strict=True)}
    for k in inside.alleles:
        frequency.setdefault(k, floor)
    outsiders = Genomes(outside.alleles, outside.carried[:, targets])
    # the attacker knows a frequency for every allele a target carries (the panel's, or the floor)
    return World(settings, inside, outsiders, frequency, inside.carried.shape[1])


@pytest.fixture(scope="module")
def beacons(world: World) -> Iterator[dict[str, BeaconService]]:
    services = {}
    closers = []
    for name, budget in (("undefended", 0.0), ("budget", Settings().beacon_budget)):
        settings = world.settings.model_copy(update={"beacon_budget": budget})
        queries = NodeQueries(settings)
        gate = AccessControl(settings, engine=queries.engine)
        services[name] = BeaconService(gate, queries, beacon_identity(settings))
        closers += [gate.close, queries.close]
    yield services
    for close in closers:
        close()


def _score(service: BeaconService, genomes: Genomes, person: int, world: World) -> float:
    """−Λ of Shringarpure & Bustamante: higher means more likely in the beacon."""
    carried = [genomes.alleles[i] for i in np.flatnonzero(genomes.carried[:, person])]
    known = [a for a in carried if a in world.panel_frequency]
    rarest = sorted(known, key=lambda a: world.panel_frequency[a])[:QUERIES]
    n = world.n_members
    score = 0.0
    for chrom, pos, ref, alt in rarest:
        request = from_query("g_variants", {"referenceName": [chrom], "start": [str(pos - 1)],
                                            "referenceBases": [ref], "alternateBases": [alt]})  # fmt: skip
        yes = service.g_variants(policy.ANONYMOUS, request)["responseSummary"]["exists"]
        f = world.panel_frequency[(chrom, pos, ref, alt)]
        d_n, d_n1 = (1 - f) ** (2 * n), (1 - f) ** (2 * n - 2)
        if yes:
            score -= np.log((1 - d_n) / (1 - ERROR * d_n1))
        else:
            score -= np.log(d_n / (ERROR * d_n1))
    return score


def _power(service: BeaconService, world: World) -> tuple[float, float]:
    """(share of members called members, share of outsiders called members) at a 5% empirical FPR."""
    members = [_score(service, world.members, p, world) for p in range(TARGETS)]
    outsiders = [_score(service, world.outsiders, p, world) for p in range(TARGETS)]
    threshold = float(np.quantile(outsiders, 0.95))
    return float(np.mean(np.array(members) > threshold)), float(np.mean(np.array(outsiders) > threshold))


def test_membership_attack__succeeds_without_defences_and_the_budget_stops_it(
    beacons: dict[str, BeaconService], world: World
) -> None:
    undefended, false_alarms = _power(beacons["undefended"], world)
    defended, defended_false_alarms = _power(beacons["budget"], world)
    print(  # quoted in docs/security.md
        f"\nmembership attack, {TARGETS} members and {TARGETS} outsiders, {QUERIES} rarest alleles each, "
        f"{world.n_members} people in the beacon: power {undefended:.2f} undefended "
        f"(false alarms {false_alarms:.2f}), {defended:.2f} with the budget (false alarms {defended_false_alarms:.2f})"
    )
    assert undefended >= 0.8, "the attack must work on an undefended beacon, or this test proves nothing"
    assert defended <= 0.3
