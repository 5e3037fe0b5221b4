"""For any call set: the joint file's counts are bcftools', and the same people sent as variant-only
centre files give the same counts for every allele someone carries."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from genomenode.domain.assembly import Assembly, contig_lengths
from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.settings import Settings
from tests.pipeline.helpers import bcftools_counts, national_counts
from tests.strategies import CallSet, call_sets

LENGTHS = contig_lengths(Assembly.GRCh38)


def _write(path: Path, calls: CallSet, columns: list[int], *, variant_only: bool) -> bool:
    lines = [
        "##fileformat=VCFv4.2",
        f"##contig=<ID=chr1,length={LENGTHS['chr1']}>",
        f"##contig=<ID=chrX,length={LENGTHS['chrX']}>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(calls.samples[c] for c in columns),
    ]
    for (chrom, pos, ref, alts), row, phased in zip(calls.sites, calls.genotypes, calls.phased, strict=True):
        cells = [row[c] for c in columns]
        if variant_only and not any(a > 0 for gt in cells for a in gt):
            continue
        text = [
            "|".join(map(str, gt)) if phased[c] else "/".join(map(str, gt))
            for gt, c in zip(cells, columns, strict=True)
        ]
        lines.append("\t".join([chrom, str(pos), ".", ref, ",".join(alts), "50", "PASS", ".", "GT", *text]))
    path.write_text("\n".join(lines) + "\n")
    return len(lines) > 5


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=call_sets(), split=st.integers(2, 3), data=st.data())
def test_counts__centre_files_equal_the_joint_file_for_any_call_set(
    calls: CallSet, split: int, data: st.DataObject, bcftools: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        everyone = list(range(len(calls.samples)))
        joint = tmp / "joint.vcf"
        _write(joint, calls, everyone, variant_only=False)
        sheet = tmp / "sheet.tsv"
        male = [any(len(row[i]) == 1 for row in calls.genotypes) for i in everyone]  # haploid on chrX
        sheet.write_text(
            "sample_id\tsex\n"
            + "".join(f"{s}\t{'male' if m else 'female'}\n" for s, m in zip(calls.samples, male, strict=True))
        )
        joint_node = Settings(data_dir=tmp / "joint")
        ingest(joint_node, IngestRequest(files=[joint], dataset="d", centre="all", sample_sheet=sheet))
        reference = bcftools_counts(bcftools, joint)
        ours = national_counts(joint_node)
        assert ours == {k: v for k, v in reference.items() if k in ours}
        assert set(reference) - set(ours) <= {k for k, v in reference.items() if v[0] == 0 and k[2] == k[3]}

        centre_of = [data.draw(st.integers(0, split - 1)) for _ in everyone]
        # A variant-only file covers the chromosomes it has records on: a centre whose people carry
        # no ALT on a chromosome says nothing there (unknown, not hom-ref), unlike the joint file.
        chroms = {site[0] for site in calls.sites}
        assume(
            all(
                any(
                    any(a > 0 for a in row[i])
                    for site, row in zip(calls.sites, calls.genotypes, strict=True)
                    if site[0] == chrom
                    for i in everyone
                    if centre_of[i] == c
                )
                for c in set(centre_of)
                for chrom in chroms
            )
        )
        centres_node = Settings(data_dir=tmp / "centres")
        for c in range(split):
            members = [i for i in everyone if centre_of[i] == c]
            vcf = tmp / f"centre{c}.vcf"
            if members and _write(vcf, calls, members, variant_only=True):
                centre_sheet = tmp / f"sheet{c}.tsv"
                rows = sheet.read_text().splitlines()
                centre_sheet.write_text("\n".join([rows[0], *[rows[i + 1] for i in members]]) + "\n")
                ingest(centres_node, IngestRequest(files=[vcf], dataset="d", centre=f"c{c}", sample_sheet=centre_sheet))
        carried = {k: v for k, v in ours.items() if v[0] > 0}
        if carried:
            split_counts = national_counts(centres_node)
            assert {k: v for k, v in split_counts.items() if v[0] > 0} == carried
