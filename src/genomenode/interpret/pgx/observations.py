"""A sample's VCF records (as written) → its genotype at each definition position, in the
definition's notation: the step PharmCAT's preprocessor and VCF reader take before matching.

PharmCAT's definitions give each variant a VCF POS (the anchor base for indels), a REF and ALTs
in VCF notation (UGT1A1 rs3064744: `CAT` → `C`, `CATAT`, `CATATAT`). A VCF may write the same
haplotype differently: padded, trimmed, shifted inside the site, split one ALT per record
(`bcftools norm -m-`), or as one multi-allelic record. So a record's ALT is compared as sequence:
both it and each definition allele are applied to the reference over the union of their spans,
and equal haplotypes are the same allele (Tan, Abecasis & Kang 2015). What the method keeps from
PharmCAT (docs/methods/NamedAlleleMatcher-101.md, VcfData):

* a position with no record, or a partial call (`0/.`), is missing — never reference;
* a record whose REF covers the position says the sample is reference there where it calls 0;
* an ALT no definition allele has is kept as its sequence over the site, which the matcher
  reports as undocumented variation; an ALT that is another site's defined allele (a deletion
  over an overlapping SNV, CYP2D6 and G6PD have these) does not count at this site;
* a call is phased only if its GT is phased; the phase set is FORMAT/PS when given.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from genomenode.domain.alleles import is_symbolic, trim
from genomenode.domain.assembly import canonical_contig
from genomenode.domain.observed import MISSING, ObservedGenotype
from genomenode.interpret.pgx.calls import PositionCall, SampleCalls

SiteKey = tuple[str, int]  # (chrom, definition position)


@dataclass(frozen=True)
class DefinitionSite:
    """One definition variant: canonical contig, VCF POS, REF and ALTs in VCF notation."""

    chrom: str
    position: int
    ref: str
    alts: tuple[str, ...]

    @property
    def key(self) -> SiteKey:
        return (self.chrom, self.position)

    @property
    def end(self) -> int:
        return self.position + len(self.ref) - 1

    @property
    def alleles(self) -> tuple[str, ...]:
        return (self.ref, *self.alts)


class _Vote:
    """What one allele of one record says about a site (besides an allele string)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


MISSING_VOTE: Final = _Vote("missing")  # a '.' or <NON_REF> call over the position: the site is missing
MISMATCH: Final = _Vote("mismatch")  # the record's REF is not the definition's: another reference build
Vote = str | _Vote
_Entry = tuple[tuple[Vote | None, ...], bool, int | None]  # one record: each copy's vote, phased, PS
_SPANNING = "*"  # a copy deleted by an upstream deletion: weaker than any other ALT, stronger than REF
_AltReading = tuple[Mapping[SiteKey, Vote], frozenset[SiteKey]]  # votes; sites it is a defined allele of
_UNKNOWN_ALLELES = frozenset({"<NON_REF>", "<*>", "."})


class DefinitionSites:
    """The definition sites indexed by contig and position, and a cache of how each record allele
    reads at the sites it overlaps (records repeat across the samples of a file). Build it once
    per set of definitions and pass it to every `to_calls`."""

    def __init__(self, sites: Iterable[DefinitionSite]) -> None:
        by_chrom: dict[str, list[DefinitionSite]] = {}
        for site in sites:
            chrom = canonical_contig(site.chrom) or site.chrom
            normal = DefinitionSite(chrom, site.position, site.ref.upper(), tuple(a.upper() for a in site.alts))
            by_chrom.setdefault(chrom, []).append(normal)
        self._sites = {c: sorted(set(s), key=lambda x: x.position) for c, s in by_chrom.items()}
        self.by_key = {s.key: s for sites in self._sites.values() for s in sites}
        self._starts = {c: [s.position for s in sites] for c, sites in self._sites.items()}
        self._longest = {c: max(len(s.ref) for s in sites) for c, sites in self._sites.items()}
        self._readings: dict[tuple[str, int, str, tuple[str, ...], int], Mapping[SiteKey, Vote]] = {}
        self._alt_readings: dict[tuple[str, int, str, str], _AltReading] = {}
        self._chroms: dict[str, str | None] = {}
        self._record_votes: dict[
            tuple[str, int, str, tuple[str, ...], tuple[int, ...]], tuple[tuple[SiteKey, tuple[Vote | None, ...]], ...]
        ] = {}
        self._single: dict[tuple[SiteKey, tuple[Vote | None, ...], bool, int | None], PositionCall | None] = {}

    def __len__(self) -> int:
        return len(self.by_key)

    def canonical(self, chrom: str) -> str | None:
        if chrom not in self._chroms:
            self._chroms[chrom] = canonical_contig(chrom)
        return self._chroms[chrom]

    def overlapping(self, chrom: str, start: int, end: int) -> list[DefinitionSite]:
        """Sites whose REF span meets [start, end]."""
        starts = self._starts.get(chrom)
        if not starts:
            return []
        sites = self._sites[chrom]
        lo = bisect.bisect_left(starts, start - self._longest[chrom] + 1)
        hi = bisect.bisect_right(starts, end)
        return [s for s in sites[lo:hi] if s.end >= start]

    def reading(self, chrom: str, pos: int, ref: str, alts: tuple[str, ...], allele: int) -> Mapping[SiteKey, Vote]:
        """What the record (chrom, pos, ref, alts) says at each site it overlaps when a copy carries
        allele index `allele` (0 REF, MISSING '.'); sites where it says nothing are left out.

        REF and '.' speak for the positions the record covers and for every site one of its ALTs
        is a defined allele of (an insertion written shifted inside a repeat is that site's record).
        """
        if allele > 0:
            return self._alt_reading(chrom, pos, ref, alts[allele - 1])[0]
        key = (chrom, pos, ref, alts, allele)
        found = self._readings.get(key)
        if found is None:
            end = pos + len(ref) - 1
            up = ref.upper()
            sites = {s.key: s for s in self.overlapping(chrom, pos, end) if pos <= s.position <= end}
            for alt in alts:
                for k in self._alt_reading(chrom, pos, ref, alt)[1]:
                    sites[k] = self.by_key[k]
            if allele == 0:
                found = {k: MISMATCH if _disagrees(s, pos, up) else s.ref for k, s in sites.items()}
            else:
                found = dict.fromkeys(sites, MISSING_VOTE)
            self._readings[key] = found
        return found

    def record_votes(
        self, chrom: str, pos: int, ref: str, alts: tuple[str, ...], alleles: tuple[int, ...]
    ) -> tuple[tuple[SiteKey, tuple[Vote | None, ...]], ...]:
        """Each site the record speaks for, with the vote of each chromosome copy (cached: the
        same record and genotype recur across a cohort's samples)."""
        key = (chrom, pos, ref, alts, alleles)
        found = self._record_votes.get(key)
        if found is None:
            n_alts = len(alts)
            per_copy = [self.reading(chrom, pos, ref, alts, MISSING if a > n_alts else a) for a in alleles]
            keys = dict.fromkeys(k for r in per_copy for k in r)
            found = tuple((k, tuple(r.get(k) for r in per_copy)) for k in keys)
            self._record_votes[key] = found
        return found

    def single_call(self, key: SiteKey, entry: _Entry) -> PositionCall | None:
        """The call at a site only one record spoke for (cached: PositionCall holds no sample)."""
        cache_key = (key, *entry)
        if cache_key in self._single:
            return self._single[cache_key]
        call = self._single[cache_key] = _combine(self.by_key[key], [entry])
        return call

    def _alt_reading(self, chrom: str, pos: int, ref: str, alt: str) -> _AltReading:
        key = (chrom, pos, ref, alt)
        found = self._alt_readings.get(key)
        if found is None:
            found = self._alt_readings[key] = self._read(chrom, pos, ref.upper(), alt.upper())
        return found

    def _read(self, chrom: str, pos: int, ref: str, alt: str) -> _AltReading:
        """The votes of a copy carrying `alt`, and the sites it is a defined allele of."""
        end = pos + len(ref) - 1
        sites = self.overlapping(chrom, pos, end)
        covering = [s for s in sites if pos <= s.position <= end]  # the record is *at* these positions
        if alt in _UNKNOWN_ALLELES:
            return {s.key: MISSING_VOTE for s in covering}, frozenset()
        if alt == _SPANNING:
            return {s.key: _SPANNING for s in covering}, frozenset()
        if is_symbolic(alt):  # <DEL>, breakends: no sequence to compare, so never a defined allele
            return {s.key: f"{ref}>{alt}" for s in covering}, frozenset()
        m_pos, m_ref, m_alt = trim(pos, ref, alt)
        m_end = m_pos + len(m_ref) - 1
        out: dict[SiteKey, Vote] = {}
        undocumented: dict[SiteKey, Vote] = {}
        claimed: set[SiteKey] = set()
        for site in sites:
            if _disagrees(site, pos, ref):
                out[site.key] = MISMATCH
                continue
            if m_end < site.position or m_pos > site.end:
                continue
            same, text = _compare(site, pos, ref, m_pos, m_ref, m_alt)
            if same is not None:
                out[site.key] = same
                if same != site.ref:
                    claimed.add(site.key)
            elif m_pos <= site.position <= m_end:
                undocumented[site.key] = text
        if not claimed:  # an ALT that is no site's defined allele is variation at the positions it changes
            out.update(undocumented)
        return out, frozenset(claimed)


def _disagrees(site: DefinitionSite, pos: int, ref: str) -> bool:
    """The record's REF and the definition's REF differ on a base both cover (N matches anything)."""
    lo, hi = max(pos, site.position), min(pos + len(ref) - 1, site.end)
    for b in range(lo, hi + 1):
        x, y = ref[b - pos], site.ref[b - site.position]
        if x != y and "N" not in (x, y):
            return True
    return False


def _compare(site: DefinitionSite, pos: int, ref: str, m_pos: int, m_ref: str, m_alt: str) -> tuple[str | None, str]:
    """(the definition allele with the same haplotype, or None; the allele's text at the site).

    Both the record's minimal change and each definition allele are applied to the reference over
    the union of their spans; the record's REF and the definition's REF together cover it."""
    m_end = m_pos + len(m_ref) - 1
    u0, u1 = min(site.position, m_pos), max(site.end, m_end)
    bases = []
    for b in range(u0, u1 + 1):
        if site.position <= b <= site.end:
            bases.append(site.ref[b - site.position])
        else:
            bases.append(ref[b - pos])
    ref_u = "".join(bases)
    observed = ref_u[: m_pos - u0] + m_alt + ref_u[m_end + 1 - u0 :]
    head, tail = ref_u[: site.position - u0], ref_u[site.end + 1 - u0 :]
    for allele in site.alleles:
        if head + allele + tail == observed:
            return allele, allele
    if u0 == site.position and u1 == site.end:
        return None, observed
    if len(m_ref) == len(m_alt):  # a substitution reaching past the site: its bases over the site
        over = "".join(
            m_alt[b - m_pos] if m_pos <= b <= m_end else site.ref[b - site.position]
            for b in range(site.position, site.end + 1)
        )
        return None, over
    return None, f"{ref_u}>{observed}"


def to_calls(
    observed: Iterable[ObservedGenotype], sites: DefinitionSites | Iterable[DefinitionSite]
) -> dict[SiteKey, PositionCall]:
    """Each definition position's call from the records overlapping it (one sample's records).

    A position is absent from the result (missing) when no record speaks for it, a record over it
    has a missing allele, the records disagree in ploidy or REF, or two records put different ALTs
    on one phased chromosome copy (unphased, they are counted as alleles instead).
    """
    index = sites if isinstance(sites, DefinitionSites) else DefinitionSites(sites)
    seen: dict[SiteKey, list[tuple[tuple[Vote | None, ...], bool, int | None]]] = {}
    for obs in observed:
        chrom = index.canonical(obs.chrom)
        if chrom is None:
            continue
        for key, votes in index.record_votes(chrom, obs.pos, obs.ref, obs.alts, obs.alleles):
            entry = (votes, obs.phased, obs.phase_set)
            found = seen.get(key)
            if found is None:
                seen[key] = [entry]
            else:
                found.append(entry)
    calls: dict[SiteKey, PositionCall] = {}
    for key, entries in seen.items():
        call = index.single_call(key, entries[0]) if len(entries) == 1 else _combine(index.by_key[key], entries)
        if call is not None:
            calls[key] = call
    return calls


def _combine(site: DefinitionSite, entries: Sequence[_Entry]) -> PositionCall | None:
    """The call at `site` from every record that spoke for it."""
    votes = [e[0] for e in entries]
    ploidy = {len(v) for v in votes}
    if len(ploidy) != 1:
        return None
    n = ploidy.pop()
    if not n or any(x is MISSING_VOTE or x is MISMATCH for v in votes for x in v):
        return None
    speaking = [i for i, v in enumerate(votes) if any(x is not None for x in v)]
    phased = bool(speaking) and all(entries[i][1] for i in speaking)
    copies: list[str] = []
    conflict = False
    for j in range(n):
        texts: set[str] = {x for v in votes if isinstance(x := v[j], str)}
        if len(texts) > 1:
            texts.discard(site.ref)
        if len(texts) > 1:
            texts.discard(_SPANNING)
        if not texts:
            return None  # no record says what this copy carries
        if len(texts) > 1:
            conflict = True
            break
        copies.append(texts.pop())
    if conflict:
        if phased:
            return None
        copies = _as_counts(site, votes, n) or []
        if not copies:
            return None
    phase_set = next((entries[i][2] for i in speaking if entries[i][2] is not None), None)
    return PositionCall(site.chrom, site.position, tuple(copies), phased, phase_set if phased else None)


def _as_counts(site: DefinitionSite, votes: Sequence[tuple[Vote | None, ...]], n: int) -> list[str] | None:
    """Unphased records that disagree copy by copy (a 1/2 split as 0/1 and 0/1): each ALT counted
    as often as the record that carries it most, the remaining copies REF; None if they overflow."""
    most: dict[str, int] = {}
    for v in votes:
        counts: dict[str, int] = {}
        for x in v:
            if isinstance(x, str) and x not in (site.ref, _SPANNING):
                counts[x] = counts.get(x, 0) + 1
        for allele, c in counts.items():
            most[allele] = max(most.get(allele, 0), c)
    total = sum(most.values())
    if total > n:
        return None
    order = {a: i for i, a in enumerate(site.alleles)}
    alts = sorted(most, key=lambda a: (order.get(a, len(order)), a))
    return [site.ref] * (n - total) + [a for a in alts for _ in range(most[a])]


def sites_of(records: Iterable[tuple[str, int, str, Sequence[str]]]) -> DefinitionSites:
    """A `DefinitionSites` from (chrom, position, ref, alts) tuples, e.g. a translation's variants."""
    return DefinitionSites(DefinitionSite(c, p, r, tuple(a)) for c, p, r, a in records)


__all__ = ["DefinitionSite", "DefinitionSites", "SampleCalls", "sites_of", "to_calls"]
