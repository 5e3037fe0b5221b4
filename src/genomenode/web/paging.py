"""Sort, filter and page a table's rows on the server: links work without script, and nothing is
cut silently (the page says how many rows there are and which ones it shows)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

T = TypeVar("T")
PAGE_SIZES = (50, 100, 250)


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int  # rows after filtering
    unfiltered: int
    page: int  # 1-based
    pages: int
    size: int
    sort: str
    descending: bool

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.size + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.size)


def paginate(
    rows: Sequence[T],
    *,
    keys: dict[str, Callable[[T], Any]],
    sort: str,
    descending: bool,
    page: int,
    size: int,
    keep: Callable[[T], bool] | None = None,
    unfiltered: int | None = None,
) -> Page[T]:
    """Filter with `keep`, sort by `keys[sort]` (None values last either way), cut one page."""
    if sort not in keys:
        sort = next(iter(keys))
    size = size if size in PAGE_SIZES else PAGE_SIZES[0]
    kept = [r for r in rows if keep is None or keep(r)]
    key = keys[sort]
    present = [r for r in kept if key(r) is not None]
    missing = [r for r in kept if key(r) is None]
    ordered = sorted(present, key=key, reverse=descending) + missing
    pages = max(1, -(-len(ordered) // size))
    page = min(max(1, page), pages)
    return Page(
        rows=ordered[(page - 1) * size : page * size],
        total=len(ordered),
        unfiltered=len(rows) if unfiltered is None else unfiltered,
        page=page,
        pages=pages,
        size=size,
        sort=sort,
        descending=descending,
    )


def link(params: dict[str, Any], **changes: Any) -> str:
    """The query string of this table with some parameters changed (empty values dropped)."""
    merged = {**params, **changes}
    return "?" + urlencode({k: v for k, v in merged.items() if v not in (None, "", False)})
