"""Self-contained HTML pages built safely: every value is text unless this module made it markup.

Reports (a rare-disease case, a pharmacogenomic report) are opened offline on hospital machines,
so a page carries inline CSS and nothing else: no script, font, image or stylesheet is fetched,
and a Content-Security-Policy forbids them all should a value ever slip through. Sample ids, HGVS
strings, diplotypes and reasons come from users' files, so markup is built only by `el`, which
escapes whatever it is not given as `Html`. Pages are ASCII (other characters as character
references), so they survive any terminal encoding.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

VOID = frozenset({"meta", "br"})
# a line break after these keeps the page's source readable; whitespace between them renders as nothing
BLOCK = frozenset(
    {"head", "meta", "title", "style", "body", "header", "main", "section", "footer", "h1", "h2", "h3", "p"}
    | {"dl", "dd", "ul", "li", "table", "thead", "tbody", "tr"}
)
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'"


class Html(str):
    """Markup built by this module; any other str put into the page is text and gets escaped."""

    __slots__ = ()


def el(tag: str, *children: object, **attrs: object) -> Html:
    """`<tag attrs>children</tag>`; `class_` is the class attribute, `http_equiv` http-equiv."""
    attributes = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{html.escape(str(value), quote=True)}"'
        for name, value in attrs.items()
        if value is not None
    )
    end = "\n" if tag in BLOCK else ""
    if tag in VOID:
        return Html(f"<{tag}{attributes}>{end}")
    return Html(f"<{tag}{attributes}>{join(children)}</{tag}>{end}")


def join(children: Iterable[object]) -> Html:
    parts: list[str] = []
    for child in children:
        if child is None:
            continue
        if isinstance(child, Html):
            parts.append(child)
        elif isinstance(child, list | tuple):
            parts.append(join(child))
        else:
            parts.append(html.escape(str(child), quote=True))
    return Html("".join(parts))


def page(title: str, css: str, body: Html) -> str:
    """The whole document: UTF-8 meta, the CSP, a viewport, the title, inline CSS; ASCII out."""
    head = el(
        "head",
        el("meta", charset="utf-8"),
        el("meta", http_equiv="Content-Security-Policy", content=CSP),
        el("meta", name="viewport", content="width=device-width, initial-scale=1"),
        el("title", title),
        el("style", Html(css)),
    )
    text = "<!DOCTYPE html>\n" + el("html", head, body, lang="en") + "\n"
    return text.encode("ascii", "xmlcharrefreplace").decode("ascii")
