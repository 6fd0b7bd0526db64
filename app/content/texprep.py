"""Step 1 of rendering (``app.content.render``): TeX delimiters and lone marks, outside code.

``\\(..\\)`` and ``\\[..\\]`` become ``$..$`` and ``$$..$$`` outside code, because
CommonMark reads ``\\(`` as an escaped ``(`` and texmath misses a ``\\[`` continuing a
list item. A lone ``<mark>`` line is joined to the next line, so it never becomes a raw
HTML block whose markdown and math would go unrendered.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.content.outline import parse_outline

__all__ = ["needs_prep", "prepare"]

_NEEDS_PREP = re.compile(r"\\[(\[]|^[ \t]*<mark\s*>[ \t]*\n", re.IGNORECASE | re.MULTILINE)
_LONE_MARK = re.compile(r"^([ \t]*<mark\s*>)[ \t]*\n(?=[ \t]*\S)", re.IGNORECASE | re.MULTILINE)
# An escaped backslash is consumed as a pair, so ``\\[2pt]`` (a LaTeX line break) is no
# delimiter.
_DELIMITER = re.compile(r"\\\\|\\[()\[\]]")
_BACKTICKS = re.compile(r"(?<!\\)`+")
_CLOSING_BACKTICKS = re.compile(r"`+")  # no escapes inside a code span
_TEX_SIGN = re.compile(r"[\\^_=+{}<>|]")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _code_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Inline code spans in ``text[start:end]``: a backtick run closed by a run of the
    same length before the next blank line (a span cannot cross a paragraph)."""
    spans: list[tuple[int, int]] = []
    pos = start
    while (opener := _BACKTICKS.search(text, pos, end)) is not None:
        blank = _BLANK_LINE.search(text, opener.end(), end)
        runs = _CLOSING_BACKTICKS.finditer(text, opener.end(), blank.start() if blank else end)
        closer = next((m for m in runs if m.group() == opener.group()), None)
        if closer is not None:
            spans.append((opener.start(), closer.end()))
        pos = closer.end() if closer is not None else opener.end()
    return spans


def _code_regions(
    text: str, block: bool, code_lines: Sequence[tuple[int, int]] | None
) -> list[tuple[int, int]]:
    """Character ranges of code (blocks, then the spans between them), in order.
    ``code_lines``: the code blocks' line ranges where the caller has them already."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)] + [len(text) + 1]
    if code_lines is None and block:
        # The outline: code blocks at any depth, without an inline parse.
        code_lines = [
            (tok.map[0], tok.map[1])
            for tok in parse_outline(text)
            if tok.type in ("fence", "code_block") and tok.map
        ]
    blocks = [(line_starts[a], min(line_starts[b], len(text))) for a, b in code_lines or ()]
    regions: list[tuple[int, int]] = []
    pos = 0
    for lo, hi in [*blocks, (len(text), len(text))]:
        regions.extend(_code_spans(text, pos, lo))
        if hi > lo:
            regions.append((lo, hi))
        pos = max(pos, hi)
    return regions


def _convert_delimiters(segment: str) -> str:
    """``\\(x\\)`` -> ``$x$`` and ``\\[x\\]`` -> ``$$x$$`` in text known to hold no code."""
    out: list[str] = []
    pos = 0
    opened: re.Match[str] | None = None
    for m in _DELIMITER.finditer(segment):
        kind = m.group()
        if kind in ("\\(", "\\["):
            opened = m  # the latest opener wins: a stray ``\\(`` must not swallow text
            continue
        if opened is None or (opened.group(), kind) not in (("\\(", "\\)"), ("\\[", "\\]")):
            continue
        inner = segment[opened.end() : m.start()]
        # ``\\[1\\]`` is markdown's way to write a literal "[1]": one-line ``\\[..\\]``
        # without a TeX sign stays text. Math never spans a blank line.
        citation = kind == "\\]" and "\n" not in inner and not _TEX_SIGN.search(inner)
        if not inner.strip() or _BLANK_LINE.search(inner) or citation:
            opened = None
            continue
        # dollarmath refuses inline ``$`` next to a digit or with padding; a space apart
        # from a digit changes nothing a reader sees.
        before = " " if opened.start() > 0 and segment[opened.start() - 1].isdigit() else ""
        after = " " if m.end() < len(segment) and segment[m.end()].isdigit() else ""
        math = f"${inner.strip()}$" if kind == "\\)" else f"$${inner}$$"
        out.append(segment[pos : opened.start()] + before + math + after)
        pos, opened = m.end(), None
    out.append(segment[pos:])
    return "".join(out)


def prepare(text: str, block: bool, *, code_lines: Sequence[tuple[int, int]] | None = None) -> str:
    """Step 1 of the module docstring, applied only outside code. ``code_lines``: the
    line ranges of ``text``'s code blocks, if the caller has parsed them already."""
    if not _NEEDS_PREP.search(text):
        return text  # the common case: no second parse needed
    out: list[str] = []
    pos = 0
    for lo, hi in [*_code_regions(text, block, code_lines), (len(text), len(text))]:
        segment = _LONE_MARK.sub(r"\1", text[pos:lo])
        out.append(_convert_delimiters(segment) + text[lo:hi])
        pos = hi
    return "".join(out)


def needs_prep(text: str) -> bool:
    """Whether ``prepare`` may change ``text`` (if not, its tokens can be reused)."""
    return _NEEDS_PREP.search(text) is not None
