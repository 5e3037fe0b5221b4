"""`genomenode case analyse --vcf`: a quick look at one family's VCF with no database.

The family comes from a PED file, a Phenopacket v2 Family (JSON; its proband's observed HPO terms
join `--hpo`), or, with neither, the proband alone (a singleton: the VCF's only sample, or
`--proband`). Population frequency is what the VCF itself can give: its other samples when it is a
cohort VCF, and frequency fields an annotation wrote into INFO.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from genomenode.cases.analysis import CaseRequest, CaseResult, analyse
from genomenode.cases.family_vcf import read_family_vcf
from genomenode.domain.assembly import Assembly
from genomenode.domain.pedigree import Affection, Member, Pedigree
from genomenode.domain.phenotypes import normalise_curie
from genomenode.errors import CaseError, listing
from genomenode.ingest.panels import read_panel_file
from genomenode.ingest.pedigree import read_ped, read_phenopacket_family
from genomenode.ingest.vcf import read_header
from genomenode.interpret.raredisease.panels import Confidence, Panel, parse_panelapp_json, parse_panelapp_tsv
from genomenode.interpret.raredisease.quality import QualityFilter
from genomenode.interpret.raredisease.scores import RankingOptions


def load_panel(path: Path) -> Panel:
    """A PanelApp gene list (TSV download or API JSON)."""
    found = read_panel_file(path)
    if found.format == "json":
        return parse_panelapp_json(found.content, source=found.source)
    return parse_panelapp_tsv(found.content, source=found.source, name=found.name)


def family_from(vcf: Path, *, ped: Path | None, proband: str | None) -> tuple[Pedigree, tuple[str, ...]]:
    """The family (and any HPO terms its file records for the proband)."""
    if ped is not None and ped.suffix.lower() == ".json":
        packet = read_phenopacket_family(ped)
        chosen = proband or packet.proband
        return packet.pedigree.with_proband(chosen), tuple(packet.observed.get(chosen, ()))
    if ped is not None:
        families = read_ped(ped)
        if proband is not None:
            holding = [f for f in families.values() if proband in f.ids]
            if not holding:
                raise CaseError(f"{ped}: no family has a member {proband!r}; check --proband against the PED")
            return holding[0].with_proband(proband), ()
        if len(families) > 1:
            raise CaseError(f"{ped}: {len(families)} families ({listing(sorted(families))}); name the --proband")
        (family,) = families.values()
        return family, ()
    samples = read_header(vcf).samples
    if proband is None:
        if len(samples) != 1:
            raise CaseError(
                f"{vcf}: {len(samples)} samples and no --ped; name the --proband (one of {listing(list(samples))})"
            )
        proband = samples[0]
    if proband not in samples:
        raise CaseError(f"{vcf}: no sample {proband!r} (samples: {listing(list(samples))})")
    member = Member(proband, affection=Affection.AFFECTED)
    return Pedigree(f"{proband}-singleton", (member,), proband=proband), ()


def analyse_vcf(
    vcf: Path,
    *,
    ped: Path | None = None,
    proband: str | None = None,
    hpo: Sequence[str] = (),
    assembly: Assembly | None = None,
    panel: Path | None = None,
    panel_confidence: Confidence = Confidence.GREEN,
    quality: QualityFilter | None = None,
    ranking: RankingOptions | None = None,
    on_record: Callable[[int], None] | None = None,
) -> CaseResult:
    pedigree, recorded = family_from(vcf, ped=ped, proband=proband)
    terms = tuple(dict.fromkeys(normalise_curie(t) for t in (*hpo, *recorded) if t.strip()))
    variants = read_family_vcf(vcf, pedigree, assembly=assembly, on_record=on_record)
    request = CaseRequest(
        pedigree=pedigree,
        hpo=terms,
        proband=pedigree.proband,
        panel=load_panel(panel) if panel is not None else None,
        panel_confidence=panel_confidence,
        quality=quality or QualityFilter(),
        ranking=ranking or RankingOptions(),
    )
    return analyse(variants, request)
