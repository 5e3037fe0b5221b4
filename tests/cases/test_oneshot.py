"""`case analyse --vcf`: a trio's planted causes ranked and explained, on real gene models and HPO."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from genomenode.cases.oneshot import analyse_vcf
from genomenode.cli.main import app
from genomenode.errors import CaseError
from genomenode.interpret.raredisease.inheritance import Mode
from genomenode.interpret.raredisease.scores import RankingOptions
from genomenode.simulate.family import Planted, write_family
from genomenode.store.hpo import Hpo
from genomenode.store.hpo_annotations import annotations_path, load_annotations

DRAVET = "OMIM:607208"  # Dravet syndrome, SCN1A


@pytest.fixture(scope="module")
def dravet_terms(hpo: Hpo) -> tuple[str, ...]:
    """Eight of the disease's phenotypic abnormalities (not its mode-of-inheritance terms)."""
    terms = load_annotations(annotations_path()).disease_terms[DRAVET]
    return tuple(t for t in terms if "HP:0000118" in hpo.ancestors(t))[:8]


@pytest.fixture(scope="module")
def trio(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    planted = [
        Planted("SCN1A", ("0/1", "0/0", "0/0")),  # de novo
        Planted("FBN1", ("0/1", "0/1", "0/0")),  # from the unaffected father: not dominant, not de novo
        Planted("CFTR", ("1/1", "0/1", "0/1")),  # recessive, homozygous
        Planted("USH2A", ("0/1", "0/1", "0/0")),  # compound het: paternal ...
        Planted("USH2A", ("0/1", "0/0", "0/1"), offset=30),  # ... and maternal
    ]
    return write_family(tmp_path_factory.mktemp("trio"), planted)


def test_case__de_novo_in_the_gene_of_the_phenotype_ranks_first(
    trio: tuple[Path, Path], dravet_terms: tuple[str, ...]
) -> None:
    vcf, ped = trio
    result = analyse_vcf(vcf, ped=ped, hpo=dravet_terms)
    first = result.candidates[0]
    assert (first.rank, first.gene, first.inheritance) == (1, "SCN1A", "de novo")
    assert result.family == "trio" and result.proband == "child"
    assert first.genotypes == {"child": "0/1", "father": "0/0", "mother": "0/0"}
    assert any("phenotype:" in r and DRAVET in r for r in first.reasons)
    assert any(a.startswith("PS2") for a in first.acmg)  # parentage backed by 150 inherited variants


def test_case__recessive_and_compound_het_are_found_and_inherited_het_is_not(trio: tuple[Path, Path]) -> None:
    vcf, ped = trio
    result = analyse_vcf(vcf, ped=ped)  # no HPO: variant evidence alone
    by_gene: dict[str, list[str]] = {}
    for c in result.candidates:
        by_gene.setdefault(c.gene, []).append(c.inheritance)
    assert by_gene["CFTR"] == ["autosomal recessive (homozygous)"]
    assert by_gene["USH2A"] == ["compound heterozygous (phased by the parents)"] * 2
    assert "FBN1" not in by_gene  # the unaffected father carries it: neither dominant nor de novo


def test_case__singleton_cannot_confirm_de_novo_and_says_so(trio: tuple[Path, Path]) -> None:
    vcf, _ = trio
    result = analyse_vcf(vcf, proband="child")
    assert result.family == "singleton"
    scn1a = next(c for c in result.candidates if c.gene == "SCN1A")
    assert "cannot confirm" in scn1a.inheritance
    assert not any(a.startswith("PS2") for a in scn1a.acmg)
    assert result.cannot_tell  # says what a singleton cannot tell


def test_case__annotated_stop_gain_in_an_intolerant_gene_meets_pvs1(
    tmp_path: Path, dravet_terms: tuple[str, ...]
) -> None:
    planted = [Planted("SCN1A", ("0/1", "0/0", "0/0"), csq="stop_gained|HIGH|ENSP0:p.Arg100Ter|HC|0.99")]
    vcf, ped = write_family(tmp_path, planted)
    (first,) = [c for c in analyse_vcf(vcf, ped=ped, hpo=dravet_terms).candidates if c.gene == "SCN1A"]
    assert first.consequence == "stop_gained" and first.hgvs == "ENSP0:p.Arg100Ter"
    assert [a.split(" ")[0] for a in first.acmg][:2] == ["PVS1", "PS2"]


def test_case__a_population_af_in_the_csq_entries_counts_against_the_allele(
    tmp_path: Path, dravet_terms: tuple[str, ...]
) -> None:
    # GIVEN a de novo stop gain whose VEP entry says gnomAD exomes see it in 2% of alleles
    planted = [Planted("SCN1A", ("0/1", "0/0", "0/0"), csq="stop_gained|HIGH|p.Arg100Ter|HC|0.99|0.02")]
    vcf, ped = write_family(tmp_path, planted)
    # THEN it is too common for a dominant de novo cause, and says where the frequency came from
    result = analyse_vcf(vcf, ped=ped, hpo=dravet_terms)
    assert not [c for c in result.candidates if c.gene == "SCN1A"]
    relaxed = analyse_vcf(vcf, ped=ped, hpo=dravet_terms, ranking=RankingOptions(max_af=dict.fromkeys(Mode, 0.05)))
    (scn1a,) = [c for c in relaxed.candidates if c.gene == "SCN1A"]
    assert scn1a.max_af == pytest.approx(0.02)
    assert any("annotated population AF 0.02" in r for r in scn1a.reasons)


def test_case__without_annotation_an_allele_in_a_nested_gene_counts_for_the_gene_whose_exon_it_is_in(
    tmp_path: Path,
) -> None:
    # GIVEN a de novo allele in a coding exon of EVI2B, which lies inside an intron of NF1
    vcf, ped = write_family(tmp_path, [Planted("EVI2B", ("0/1", "0/0", "0/0"))])
    by_gene = {c.gene: c for c in analyse_vcf(vcf, ped=ped).candidates}
    # THEN it is a coding candidate of EVI2B, and NF1 is not credited with a coding variant
    assert by_gene["EVI2B"].consequence == "coding_exon"
    assert "NF1" not in by_gene


def test_case__an_annotated_allele_is_scored_under_each_gene_it_changes(tmp_path: Path) -> None:
    # GIVEN VEP entries for one allele: missense in EVI2B, intronic in NF1, missense in a third gene
    planted = [Planted("EVI2B", ("0/1", "0/0", "0/0"), csq="missense_variant|MODERATE|p.Arg10Cys||")]
    vcf, ped = write_family(tmp_path, planted)
    text = gzip.decompress(vcf.read_bytes()).decode()
    first = "T|missense_variant|MODERATE|EVI2B|ENSG0|Transcript|ENST0|protein_coding||p.Arg10Cys|||"
    assert first in text
    extra = ",T|intron_variant|MODIFIER|NF1|ENSG1|Transcript|ENST1|protein_coding|||||,"
    extra += "T|missense_variant|MODERATE|OTHER1|ENSG2|Transcript|ENST2|protein_coding||p.Gly5Ser|||"
    plain = tmp_path / "trio-two-genes.vcf"
    plain.write_text(text.replace(first, first + extra))
    # THEN each gene is scored on its own entries: EVI2B and OTHER1 as missense, NF1 not at all
    by_gene = {c.gene: c for c in analyse_vcf(plain, ped=ped).candidates}
    assert by_gene["EVI2B"].consequence == by_gene["OTHER1"].consequence == "missense_variant"
    assert by_gene["OTHER1"].hgvs == "p.Gly5Ser"
    assert "NF1" not in by_gene


def test_case__a_low_confidence_lof_or_gene_models_alone_never_meet_pvs1(tmp_path: Path) -> None:
    planted = [
        Planted("SCN1A", ("0/1", "0/0", "0/0"), csq="stop_gained|HIGH|p.Arg100Ter|LC|0.99"),
        Planted("FBN1", ("0/1", "0/0", "0/0")),  # no annotation: a coding-exon class, not a LoF
    ]
    vcf, ped = write_family(tmp_path, planted)
    for c in analyse_vcf(vcf, ped=ped).candidates:
        assert not any(a.startswith("PVS1") for a in c.acmg), c


def test_case__a_panel_keeps_only_its_genes(trio: tuple[Path, Path], tmp_path: Path) -> None:
    vcf, ped = trio
    panel = tmp_path / "cf.tsv"
    panel.write_text(
        "Entity Name\tEntity type\tGene Symbol\tGEL_Status\tModel_Of_Inheritance\nCFTR\tgene\tCFTR\t3\tBIALLELIC\n"
    )
    result = analyse_vcf(vcf, ped=ped, panel=panel)
    assert {c.gene for c in result.candidates} == {"CFTR"}


def test_case__unknown_hpo_term_or_absent_proband_is_a_clear_error(trio: tuple[Path, Path]) -> None:
    vcf, ped = trio
    with pytest.raises(CaseError, match="HP:9999999"):
        analyse_vcf(vcf, ped=ped, hpo=["HP:9999999"])
    with pytest.raises(CaseError, match="nobody"):
        analyse_vcf(vcf, proband="nobody")


def test_cli_case_analyse__tsv_columns_and_json(trio: tuple[Path, Path], dravet_terms: tuple[str, ...]) -> None:
    vcf, ped = trio
    runner = CliRunner()
    args = ["case", "analyse", "--vcf", str(vcf), "--ped", str(ped), "--hpo", ",".join(dravet_terms)]
    tsv = runner.invoke(app, [*args, "--format", "tsv"])
    assert tsv.exit_code == 0, tsv.output
    lines = [ln for ln in tsv.stdout.splitlines() if ln]
    assert lines[0].split("\t")[:9] == ["rank", "gene", "chrom", "pos", "ref", "alt", "inheritance", "score", "reasons"]
    assert lines[1].split("\t")[:2] == ["1", "SCN1A"]
    out = runner.invoke(app, [*args, "--format", "json"])
    assert out.exit_code == 0, out.output
    document = json.loads(out.stdout)
    assert document["candidates"][0]["gene"] == "SCN1A" and document["proband"] == "child"
    bad = runner.invoke(app, ["case", "analyse", "--vcf", str(vcf), "--ped", str(ped), "--hpo", "HP:9999999"])
    assert bad.exit_code == 1 and "HP:9999999" in bad.output
