"""Protein changes as people and annotators write them, read into one form (HGVS p., 3-letter codes).

`V600E`, `p.V600E`, `p.Val600Glu`, `p.(Val600Glu)` and `NP_004324.2:p.Val600Glu` are one change:
the transcript or protein prefix and the parentheses of a predicted change are dropped, one-letter
codes become three-letter ones (HGVS recommends them; VEP writes them), and the change is compared
in that form. A stop is `Ter` (`*` in one-letter form; `X`, as older papers write a stop, is read
as `Ter` too). A substitution by the same residue (`His1863His`, as snpEff writes a synonymous
change) is `His1863=`, as VEP writes it. Deletions, duplications, insertions, delins, extensions
and frameshifts keep their HGVS words; a frameshift asked without its details (`D825fs`) matches
every frameshift starting at that residue, with them (`p.Asp825GlufsTer21`) only that one.

bcftools csq does not write HGVS: its amino_acid_change column says `600V>600E` for a
substitution and `600V` for a synonymous one; `from_bcftools` reads those two forms (its
multi-residue forms, such as a frameshift's whole new sequence, have no HGVS counterpart here).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from genomenode.errors import InvalidVariantError

THREE_LETTER: dict[str, str] = {
    "A": "Ala",
    "R": "Arg",
    "N": "Asn",
    "D": "Asp",
    "C": "Cys",
    "Q": "Gln",
    "E": "Glu",
    "G": "Gly",
    "H": "His",
    "I": "Ile",
    "L": "Leu",
    "K": "Lys",
    "M": "Met",
    "F": "Phe",
    "P": "Pro",
    "S": "Ser",
    "T": "Thr",
    "W": "Trp",
    "Y": "Tyr",
    "V": "Val",
    "U": "Sec",
    "O": "Pyl",
    "*": "Ter",
    "X": "Ter",  # legacy stop
}
ONE_LETTER: dict[str, str] = {three: one for one, three in THREE_LETTER.items() if one != "X"}

_CODES = "|".join(sorted(ONE_LETTER, key=len, reverse=True))
_TOKEN = re.compile(
    rf"(?P<aa>{_CODES}|Xaa|[ACDEFGHIKLMNPQRSTVWYUOX*])|(?P<num>\d+)|(?P<word>delins|del|ins|dup|fs|ext)|(?P<mark>[_=?])"
)
_BCFTOOLS = re.compile(r"(\d+)([A-Z*])(?:>(\d+)([A-Z*]))?")
_FORMS = "write it as V600E, p.V600E or p.Val600Glu (HGVS p., one- or three-letter amino acids)"


@dataclass(frozen=True)
class ProteinChange:
    """A change at one residue: the reference amino acid (three-letter), its position, and what the
    change says after them, as canonical HGVS tokens (`("Glu",)`, `("=",)`, `("del",)`,
    `("_", "Lys", "827", "del")`, `("Glu", "fs", "Ter", "21")`)."""

    ref: str
    position: int
    change: tuple[str, ...]

    def __str__(self) -> str:
        return f"p.{self.ref}{self.position}{''.join(self.change)}"

    @property
    def one_letter(self) -> str:
        """As Beacon's `aminoacidChange` examples write it: V600E, R1659*, D825Efs*21."""
        tokens = (ONE_LETTER.get(t, t) for t in self.change)
        return f"{ONE_LETTER.get(self.ref, self.ref)}{self.position}{''.join(tokens)}"

    @property
    def frameshift(self) -> bool:
        return "fs" in self.change

    def matches(self, other: ProteinChange) -> bool:
        """The same change; a frameshift's new residue and stop distance count only where both say them."""
        if (self.ref, self.position) != (other.ref, other.position):
            return False
        if not (self.frameshift and other.frameshift):
            return self.change == other.change
        mine, theirs = _split_frameshift(self.change), _split_frameshift(other.change)
        return all(a == b for a, b in zip(mine, theirs, strict=True) if a and b)


def _split_frameshift(change: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    at = change.index("fs")
    return change[:at], change[at + 1 :]


def parse_protein_change(text: str) -> ProteinChange:
    """`text` as a protein change; InvalidVariantError saying which forms are read when it is none."""
    found = read_protein_change(text)
    if found is None:
        raise InvalidVariantError(f"{text!r} is not a protein change; {_FORMS}")
    return found


@functools.lru_cache(maxsize=65_536)  # annotations repeat the same few strings across files
def read_protein_change(text: str) -> ProteinChange | None:
    """`text` as a protein change, or None (an annotation's `p.?`, `p.0`, a form not read here)."""
    body = text.strip()
    if ":" in body:
        body = body.rsplit(":", 1)[1]
    body = body.removeprefix("p.").replace("(", "").replace(")", "")
    tokens: list[str] = []
    kinds: list[str] = []
    at = 0
    while at < len(body):
        match = _TOKEN.match(body, at)
        if match is None:
            return None
        kind = match.lastgroup or ""
        value = match.group()
        tokens.append(THREE_LETTER.get(value, value) if kind == "aa" else value)
        kinds.append(kind)
        at = match.end()
    if len(tokens) < 3 or kinds[:2] != ["aa", "num"] or int(tokens[1]) == 0:
        return None
    ref, change = tokens[0], tuple(tokens[2:])
    if change == (ref,):
        change = ("=",)
    return ProteinChange(ref, int(tokens[1]), change)


def from_bcftools(text: str) -> ProteinChange | None:
    """bcftools csq's amino_acid_change (`600V>600E`, `600V`) as a protein change; None for its other forms."""
    match = _BCFTOOLS.fullmatch(text.strip())
    if match is None:
        return None
    position, ref, alt_position, alt = match.groups()
    if alt_position is not None and alt_position != position:
        return None
    ref3 = THREE_LETTER[ref]
    if alt is None or alt == ref:
        return ProteinChange(ref3, int(position), ("=",))
    return ProteinChange(ref3, int(position), (THREE_LETTER[alt],))
