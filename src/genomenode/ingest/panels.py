"""Reading a gene panel file (PanelApp TSV download or API v1 JSON) from disk.

The import layers let `ingest` use only `domain`, and the panel model and its parsers are
interpretation (`interpret.raredisease.panels`), so this edge only reads and decodes: it returns
the text (TSV) or the decoded JSON with the file's name, and the caller (`genomenode.cases`)
hands them to `parse_panelapp_tsv`/`parse_panelapp_json`:

    raw = read_panel_file(path)
    panel = parse_panelapp_json(raw.content, source=raw.source) if raw.format == "json" \
        else parse_panelapp_tsv(raw.content, source=raw.source, name=raw.name)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from genomenode.errors import PanelError

MAX_PANEL_BYTES = 64 * 1024 * 1024  # the largest PanelApp panels are a few MB


@dataclass(frozen=True)
class PanelFile:
    source: str  # the path, for messages
    name: str  # the file name without extension: PanelApp names a TSV download after its panel
    format: Literal["tsv", "json"]
    content: Any  # str for TSV, the decoded JSON value for JSON


def read_panel_file(path: Path) -> PanelFile:
    """Read `path` as a PanelApp panel: JSON if it ends in .json or starts with `{`, else TSV.

    Raises PanelError naming the file (and the line and column for broken JSON or text that is
    not UTF-8).
    """
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_PANEL_BYTES:
            raise PanelError(f"{source}: {size} bytes; a gene panel is at most {MAX_PANEL_BYTES} bytes")
        data = path.read_bytes()
    except FileNotFoundError:
        raise PanelError(f"{source}: no such file; give the path of a PanelApp TSV or JSON download") from None
    except IsADirectoryError:
        raise PanelError(f"{source}: is a directory; give the path of a PanelApp TSV or JSON download") from None
    except OSError as exc:
        raise PanelError(f"{source}: cannot be read ({exc.strerror or exc})") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PanelError(
            f"{source}: line {line}: byte {exc.start} is not UTF-8; save the panel as UTF-8 text"
        ) from None
    name = path.name.removesuffix(".json").removesuffix(".tsv").removesuffix(".txt")
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
        try:
            return PanelFile(source, name, "json", json.loads(text))
        except json.JSONDecodeError as exc:
            raise PanelError(f"{source}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})") from None
    return PanelFile(source, name, "tsv", text)
