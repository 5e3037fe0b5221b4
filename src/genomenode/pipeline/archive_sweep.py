"""Bring the encrypted archive back in line with the catalog after a run that was killed.

Run under the store's write lock by every writer that touches the archive (ingest, erasure), as
the parts' garbage collection is. Two kinds of leftovers:

* an archive file no catalog row names: written by an ingest that died before its commit; removed;
* `<name>.erasing`: an erasure's rewritten copy, renamed over `<name>` only after the catalog
  commit. The catalog row holds the size of the copy it committed, so the sizes say which side of
  the commit the kill fell on: the copy is renamed into place if the catalog names its size, else
  removed (an erased copy is always smaller than the file it replaces, by the person's column).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

ERASING = ".erasing"


def sweep_archive(archive_root: Path, sizes: Mapping[str, int]) -> list[str]:
    """Finish or undo what killed runs left in the archive; the names of the files acted on.

    `sizes`: the catalog's archived files, path (relative to `archive_root`) → encrypted bytes.
    """
    if not archive_root.is_dir():
        return []
    acted: list[str] = []
    for path in sorted(archive_root.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(archive_root).as_posix()
        if name.endswith(ERASING):
            final = path.with_name(path.name[: -len(ERASING)])
            committed = sizes.get(name[: -len(ERASING)])
            if committed is not None and path.stat().st_size == committed and _size(final) != committed:
                path.replace(final)
            else:
                path.unlink()
            acted.append(name)
        elif name not in sizes:
            path.unlink()
            acted.append(name)
    return acted


def _size(path: Path) -> int | None:
    return path.stat().st_size if path.exists() else None
