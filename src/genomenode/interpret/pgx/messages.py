"""PharmCAT's curated report messages (`reporter/messages.json`) that apply to a gene's call.

The curated "ambiguity" messages say what unphased data cannot rule out (TPMT: "The assigned
genotype is *1/*3A; however, *3B/*3C cannot be ruled out without phased data"), or what a missing
position hides (CYP2C19 *38 when rs3758581 is missing). A message applies when its gene is the
call's and every condition it gives holds: `dips` (one of the called diplotypes, unphased data
only, since phased data rules the alternative out), `hapsCalled` (a called allele among the
listed ones), `variantsMissing` (every listed position missing) and `variant` (the sample is
heterozygous there: the ambiguity arises only then). Messages conditioned on alleles that were
*not* called (`hapsMissing`) or on drugs only are left to the report's readers: they are not
matched here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_KINDS = frozenset({"ambiguity", "note"})


@dataclass(frozen=True)
class Message:
    gene: str
    kind: str
    text: str
    diplotypes: frozenset[str]
    alleles_called: tuple[frozenset[str], ...]
    variants_missing: frozenset[str]
    variants: frozenset[str]


def parse_messages(rules: Iterable[Mapping[str, Any]]) -> tuple[Message, ...]:
    out = []
    for rule in rules:
        matches = rule.get("matches") or {}
        kind = str(rule.get("exception_type") or "")
        gene = matches.get("gene")
        if kind not in _KINDS or not gene or matches.get("hapsMissing"):
            continue
        called = tuple(
            frozenset(a.strip() for a in str(entry).split(";") if a.strip())
            for entry in matches.get("hapsCalled") or ()
        )
        message = Message(
            gene=str(gene),
            kind=kind,
            text=str(rule.get("message") or "").strip(),
            diplotypes=frozenset(matches.get("dips") or ()),
            alleles_called=called,
            variants_missing=frozenset(matches.get("variantsMissing") or ()),
            variants=frozenset(matches.get("variant") or ()),
        )
        if message.text and (message.diplotypes or message.alleles_called or message.variants_missing):
            out.append(message)
    return tuple(out)


def applicable(
    messages: Sequence[Message],
    *,
    gene: str,
    diplotypes: Sequence[str],
    alleles: Iterable[str],
    missing: Iterable[str],
    heterozygous: Iterable[str],
    phased: bool,
) -> list[str]:
    """The texts of the messages whose conditions the call meets (see the module docstring)."""
    called, gone, het = set(alleles), set(missing), set(heterozygous)
    out = []
    for m in messages:
        if m.gene != gene:
            continue
        if m.diplotypes and (phased or not m.diplotypes & set(diplotypes)):
            continue
        if any(not (group & called) for group in m.alleles_called):
            continue
        if m.variants_missing and not m.variants_missing <= gone:
            continue
        if m.variants and not m.variants <= het:
            continue
        out.append(m.text)
    return out
