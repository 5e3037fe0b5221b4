"""PharmCAT's outside-call file: diplotypes, phenotypes or activity scores called by other tools.

CYP2D6 has copy-number changes and hybrids that VCF calls cannot see, so, as PharmCAT does, a
call from a dedicated caller (Cyrius, Aldy, StellarPGx, a lab's assay) is accepted instead.
The format (PharmCAT docs, "Outside Call Format"): UTF-8, tab-separated, `#` lines ignored, up
to four fields: HGNC gene symbol; diplotype or single allele; phenotype; activity score. The gene
and at least one of the other three are required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from genomenode.errors import PgxError

# PharmCAT's synonyms (docs: "We will translate common synonyms"), and metaboliser → metabolizer
_SYNONYMS = {
    "PM": "Poor Metabolizer",
    "IM": "Intermediate Metabolizer",
    "NM": "Normal Metabolizer",
    "EM": "Normal Metabolizer",
    "RM": "Rapid Metabolizer",
    "UM": "Ultrarapid Metabolizer",
}
_GENE = re.compile(r"^[A-Z][A-Z0-9-]*$")


@dataclass(frozen=True)
class OutsideCall:
    gene: str
    diplotype: str | None
    phenotype: str | None
    activity_score: str | None
    source: str  # file:line, for the report's warnings

    @property
    def alleles(self) -> tuple[str, ...]:
        """The diplotype's alleles (one for a haploid call such as MT-RNR1), as written."""
        return tuple(a.strip() for a in self.diplotype.split("/")) if self.diplotype else ()


def normalise_phenotype(text: str) -> str:
    """CPIC's spelling: `metabolizer`, title case, PM/IM/NM/EM/UM spelt out; modifiers kept."""
    value = " ".join(text.split())
    if value.upper() in _SYNONYMS:
        return _SYNONYMS[value.upper()]
    value = re.sub(r"(?i)metaboli[sz]er", "Metabolizer", value)
    return " ".join(w if w.isupper() and len(w) > 1 else w[:1].upper() + w[1:].lower() for w in value.split(" "))


def read_outside_calls(path: Path) -> list[OutsideCall]:
    """Every call in the file; a malformed line is a PgxError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PgxError(f"{path}: not UTF-8 (byte {exc.start}); save the outside-call file as UTF-8") from None
    except OSError as exc:
        raise PgxError(f"{path}: cannot read the outside-call file ({exc.strerror})") from None
    calls: list[OutsideCall] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path}:{number}"
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) > 4:
            raise PgxError(f"{where}: {len(fields)} tab-separated fields; the format has at most 4 (gene, diplotype, "
                           "phenotype, activity score)")  # fmt: skip
        gene, *rest = fields + [""] * (4 - len(fields))
        if not _GENE.match(gene):
            raise PgxError(f"{where}: {gene!r} is not an HGNC gene symbol; the first field names the gene")
        diplotype, phenotype, score = (v or None for v in rest)
        if diplotype is None and phenotype is None and score is None:
            raise PgxError(f"{where}: {gene} has no diplotype, phenotype or activity score; give at least one")
        if diplotype is not None and diplotype.count("/") > 1:
            raise PgxError(f"{where}: diplotype {diplotype!r} has more than two alleles; write it as A/B")
        if gene in seen:
            raise PgxError(f"{where}: {gene} was already called on line {seen[gene]}; give one call per gene")
        seen[gene] = number
        calls.append(
            OutsideCall(
                gene=gene,
                diplotype=diplotype,
                phenotype=normalise_phenotype(phenotype) if phenotype else None,
                activity_score=score,
                source=where,
            )
        )
    return calls
