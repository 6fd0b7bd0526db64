"""Strip TeX links with unsafe targets from an Anki field before export.

Anki typesets ``\\(..\\)`` with MathJax, whose ``\\href{url}{text}`` and ``\\url{url}``
make live links: ``\\href{javascript:...}`` would run script when the card is clicked.
Every ``\\href`` or ``\\url`` whose target is not ``http``, ``https``, ``mailto`` or
relative loses its target (``\\href``'s text stays); one not followed by a brace group
(``\\let\\h=\\href``, ``\\def\\h{\\href}``) is removed, so no alias can carry it.

The field is HTML (TeX is escaped text in it), so the target is read as the card's
browser would, and more warily: entities decoded (repeatedly), white space and control
characters dropped, TeX's backslashes ignored.
"""

from __future__ import annotations

import html
import re

__all__ = ["SAFE_SCHEMES", "strip_unsafe_links"]

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_COMMAND = re.compile(r"\\(href|url)(?![A-Za-z])")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def _group(text: str, start: int) -> tuple[int, int] | None:
    """The balanced ``{..}`` group after optional spaces at ``start``: (open, end)."""
    i = start
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    if i >= len(text) or text[i] != "{":
        return None
    depth, j = 0, i
    while j < len(text):
        char = text[j]
        if char == "\\":
            j += 2  # an escaped brace does not count
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            return i, j + 1
        j += 1
    return None


def _safe(target: str) -> bool:
    url = target
    for _ in range(3):  # entities inside entities: decoded as often as anyone might
        url = html.unescape(url)
    url = url.replace("\\", "")
    url = "".join(c for c in url if c.isprintable() and not c.isspace())
    scheme = _SCHEME.match(url)
    return scheme is None or scheme.group(1).lower() in SAFE_SCHEMES


def strip_unsafe_links(field: str) -> str:
    """``field`` with every ``\\href``/``\\url`` whose target is unsafe taken out."""
    out: list[str] = []
    pos = 0
    for m in _COMMAND.finditer(field):
        if m.start() < pos:
            continue  # inside a target already dropped
        group = _group(field, m.end())
        if group is not None and _safe(field[group[0] + 1 : group[1] - 1]):
            continue
        out.append(field[pos : m.start()])
        pos = group[1] if group is not None else m.end()
    out.append(field[pos:])
    return "".join(out)
