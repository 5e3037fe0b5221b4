"""Reference FASTA access for REF checks and left-alignment (pyfaidx over a .fai-indexed FASTA)."""

from __future__ import annotations

from pathlib import Path

import pyfaidx

from genomenode.domain.assembly import canonical_contig
from genomenode.errors import InputError


class ReferenceGenome:
    """Fetch bases by canonical or file contig name; `chr22` and `22` find the same sequence."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise InputError(f"{path}: reference FASTA not found; pass --reference PATH to a FASTA file")
        try:
            self._fasta = pyfaidx.Fasta(str(path), as_raw=True, sequence_always_upper=True, rebuild=False)
        except Exception as exc:
            raise InputError(f"{path}: cannot read the reference FASTA ({exc}); index it with samtools faidx") from exc
        self.path = path
        self._names: dict[str, str] = {}
        for name in list(self._fasta.keys()):  # iterating a Fasta yields records, not names
            self._names[name] = name
            canon = canonical_contig(name)
            if canon and canon not in self._names:
                self._names[canon] = name

    def has(self, chrom: str) -> bool:
        return chrom in self._names

    def fetch(self, chrom: str, start: int, end: int) -> str:
        """Bases start..end, 1-based inclusive; '' past the end of the contig."""
        name = self._names.get(chrom) or self._names.get(canonical_contig(chrom) or "")
        if name is None:
            raise InputError(f"contig {chrom} is not in the reference {self.path}")
        return str(self._fasta[name][start - 1 : end])

    def close(self) -> None:
        self._fasta.close()
