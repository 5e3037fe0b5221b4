"""Small synthetic families for `genomenode case example` and the case tests: real gene
coordinates, planted genotypes, a PED.

Positions come from the installed gene models (a coding base in the middle of each gene's CDS), so
the coarse classes and the phenotype genes are the real ones; REF/ALT bases are written, not read
from a reference (the tests give no --reference). Background: inherited common variants away from
genes, so the trio's Mendelian error rate is that of a real trio, not of a handful of records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow.compute as pc

from genomenode.domain.assembly import Assembly, contig_lengths
from genomenode.ingest.vcf_writer import write_vcf
from genomenode.store.transcripts import feature_table

MEMBERS = ("child", "father", "mother")
EXAMPLE_DISEASE = "OMIM:607208"  # Dravet syndrome: a de novo SCN1A variant in a child with seizures
CSQ_FORMAT = "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|HGVSc|HGVSp|LoF|pLI|gnomADe_AF"


@dataclass(frozen=True)
class Planted:
    gene: str
    genotypes: tuple[str, str, str]  # child, father, mother
    ref: str = "C"
    alt: str = "T"
    offset: int = 0  # bases from the gene's middle coding base
    csq: str | None = None  # Consequence|IMPACT|HGVSp|LoF|pLI[|gnomADe_AF], written as a CSQ value


def coding_base(gene: str, assembly: Assembly = Assembly.GRCh38, offset: int = 0) -> tuple[str, int]:
    features = feature_table(assembly)
    cds = features.filter(pc.and_(pc.equal(features["gene_symbol"], gene), pc.equal(features["feature"], "cds")))
    rows = sorted(cds.to_pylist(), key=lambda r: r["end"] - r["start"], reverse=True)
    first = rows[0]
    return first["chrom"], (first["start"] + first["end"]) // 2 + offset


def write_family(
    directory: Path,
    planted: list[Planted],
    *,
    background: int = 150,
    child_sex: int = 1,
    child_affected: bool = True,
    members: tuple[str, str, str] = MEMBERS,
    family_id: str = "F1",
) -> tuple[Path, Path]:
    """A bgzipped trio VCF and its PED; the child is the affected proband. `members` names the
    child, father and mother (their VCF columns), so several families can share one dataset."""
    lengths = contig_lengths(Assembly.GRCh38)
    header = ["##fileformat=VCFv4.2", '##FILTER=<ID=PASS,Description="All filters passed">']
    header += [f"##contig=<ID={c},length={n}>" for c, n in lengths.items()]
    header += [
        '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. '
        f'Format: {CSQ_FORMAT}">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(members),
    ]
    records: list[tuple[str, int, str]] = []
    for p in planted:
        chrom, pos = coding_base(p.gene, offset=p.offset)
        info = "."
        if p.csq is not None:
            consequence, impact, hgvsp, lof, pli, *af = p.csq.split("|")
            transcript = f"{p.gene}|ENSG0|Transcript|ENST0|protein_coding"
            info = f"CSQ={p.alt}|{consequence}|{impact}|{transcript}||{hgvsp}|{lof}|{pli}|{''.join(af)}"
        calls = "\t".join(_call(gt) for gt in p.genotypes)
        records.append((chrom, pos, f"{chrom}\t{pos}\t.\t{p.ref}\t{p.alt}\t50\tPASS\t{info}\tGT:GQ:DP:AD\t{calls}"))
    for k in range(background):  # inherited common variants in a gene desert of chr5
        pos = 20_000_000 + 1_000 * k
        gts = (("0/1", "0/1", "0/0"), ("1/1", "1/1", "0/1"), ("0/1", "0/0", "1/1"))[k % 3]
        calls = "\t".join(_call(gt) for gt in gts)
        records.append(("chr5", pos, f"chr5\t{pos}\t.\tA\tG\t50\tPASS\t.\tGT:GQ:DP:AD\t{calls}"))
    order = {c: i for i, c in enumerate(lengths)}
    records.sort(key=lambda r: (order[r[0]], r[1]))
    vcf = directory / "family.vcf.gz"
    write_vcf(vcf, header, [r[2] for r in records])
    ped = directory / "family.ped"
    child, father, mother = members
    ped.write_text(
        f"{family_id}\t{child}\t{father}\t{mother}\t{child_sex}\t{2 if child_affected else 1}\n"
        f"{family_id}\t{father}\t0\t0\t1\t1\n{family_id}\t{mother}\t0\t0\t2\t1\n"
    )
    return vcf, ped


def _call(gt: str) -> str:
    ad = {"0/0": "30,0", "0/1": "15,15", "1/1": "0,30", "./.": ".,."}[gt]
    return f"{gt}:99:30:{ad}"


EXAMPLE = [
    Planted("SCN1A", ("0/1", "0/0", "0/0"), csq="stop_gained|HIGH|ENSP00000303540.4:p.Arg1407Ter|HC|1.00"),
    Planted("FBN1", ("0/1", "0/1", "0/0")),  # inherited from the unaffected father
    Planted("CFTR", ("1/1", "0/1", "0/1")),  # a recessive homozygote
    Planted("USH2A", ("0/1", "0/1", "0/0")),  # a compound het, paternal ...
    Planted("USH2A", ("0/1", "0/0", "0/1"), offset=30),  # ... and maternal
    Planted("TTN", ("0/1", "0/0", "0/0"), offset=-12),  # another de novo, in a gene of another phenotype
]


def write_example(directory: Path, disease_terms: Sequence[str]) -> tuple[Path, Path, Path]:
    """family.vcf.gz, family.ped and hpo.txt (the child's terms, comma-separated) in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    vcf, ped = write_family(directory, EXAMPLE)
    hpo = directory / "hpo.txt"
    hpo.write_text(",".join(disease_terms) + "\n")
    return vcf, ped, hpo
