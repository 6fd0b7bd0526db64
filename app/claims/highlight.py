"""Find a claim's quote in a rendered answer and highlight exactly that text.

A claim quotes an answer as its author wrote it, in markdown (``**低秩**分解``,
``$\\Delta W = BA$``, `` `GradScaler` ``), while the answer is stored as sanitised HTML
(``app.content.render``). So the two are compared by what a reader sees.

Visible text (``answer_text``, ``quote_text``)
    The text content of the HTML: entities decoded, a ``<math>`` element counts as the
    text of its token elements (``<mi>Δ</mi><mi>W</mi>`` is "ΔW"), ``<annotation>``,
    ``<script>`` and ``<style>`` count for nothing, and runs of whitespace become one
    space. A quote is rendered with ``render_inline`` first, so it must be inline
    markdown: a list marker or heading sign in it stays literal text.

Matching (``find_quote``)
    Both texts with *all* whitespace (``str.isspace``) removed; otherwise exact and
    case-sensitive; the first occurrence wins. Dropping whitespace makes a quote
    indifferent to line breaks in the source, to the spaces an author puts (or not)
    between Chinese and math, and to spacing inside MathML text. The price, "a b"
    matching "ab", does not matter for sentence-length quotes. An empty quote is never
    found.

Highlighting (``highlight``)
    The HTML is scanned once with ``html.parser`` (``convert_charrefs=False``), each
    visible character remembering the slice of the source it stands for: itself, its
    whole entity, or its whole ``<math>`` element (math is atomic: touch it and all of
    it is marked, and no ``<mark>`` ever goes inside MathML). The output is the input
    with tags inserted, never re-serialised, so everything else comes back byte for
    byte, entities included. A matched range is cut at every tag into pieces, each
    wrapped in its own ``<mark>``, so a mark never opens in one element and closes in
    another. Whitespace inside the range goes with its piece, so the highlight shows no
    gaps around formulas; pieces that are only whitespace (between list items, say) are
    left out.

    Marks apply in the order given. A mark whose first occurrence overlaps one placed
    before it (shares a character, an entity or a math element) is skipped, not moved
    to a later occurrence: a claim points to one place or none. A quote not found
    changes nothing. The badge goes right after the last piece's ``</mark>``, then past
    any end tags of inline elements that follow at once (``</strong>``, ``</a>``...):
    a quote ending a bold phrase or a link gets neither a bold badge nor one inside
    the link.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser

from app.content.render import render_inline

__all__ = ["Mark", "answer_text", "find_quote", "highlight", "quote_text"]

_HIDDEN = frozenset({"annotation", "script", "style", "template"})
_INLINE = frozenset(
    {"a", "b", "cite", "code", "del", "em", "i", "mark", "s", "small", "span", "strong"}
    | {"sub", "sup", "u"}
)


@dataclass(frozen=True)
class Mark:
    """One claim to highlight in an answer."""

    claim_id: str
    quote_md: str  # as written in the answer's markdown
    badge_html: str = ""  # trusted HTML put after the quote (a verdict badge)
    css_class: str = "claim"  # e.g. "claim claim-refuted"


class _Scan(HTMLParser):
    """One pass over an HTML string: every visible character, whitespace included, with
    the source slice it must carry along and the id of the text run it lies in (a run is
    the text between two tags; a whole ``<math>`` element is one run; a comment ends no
    run, as it may sit inside a ``<mark>``)."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.runs: list[int] = []
        self.closers: dict[int, int] = {}  # where an inline end tag starts -> where it ends
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", source))]
        self._run = 0
        self._hidden = 0
        self._math: tuple[int, int] | None = None  # an open <math>: source offset, char index
        self.feed(source)
        self.close()
        if self._math is not None:  # not in sanitised HTML; keep the text, atomic to the end
            self._close_math(len(source))
        self.kept = [i for i, ch in enumerate(self.chars) if not ch.isspace()]
        self.compact = "".join(self.chars[i] for i in self.kept)

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _add(self, text: str, start: int, end: int | None = None) -> None:
        if self._hidden:
            return
        for i, ch in enumerate(text):
            self.chars.append(ch)
            self.starts.append(start if end is not None else start + i)
            self.ends.append(end if end is not None else start + i + 1)
            self.runs.append(self._run)

    def _close_math(self, end: int) -> None:
        assert self._math is not None
        start, first = self._math
        count = len(self.chars) - first
        self.starts[first:] = [start] * count
        self.ends[first:] = [end] * count
        self.runs[first:] = [self._run] * count  # higher than any run inside: unique
        self._math = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._run += 1
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "math" and self._math is None:
            self._math = (self._offset(), len(self.chars))

    def handle_endtag(self, tag: str) -> None:
        start = self._offset()
        close = self.source.find(">", start)
        end = close + 1 if close >= 0 else len(self.source)
        if tag in _HIDDEN and self._hidden:
            self._hidden -= 1
        elif tag == "math" and self._math is not None:
            self._close_math(end)
        elif tag in _INLINE:
            self.closers[start] = end
        self._run += 1

    def handle_data(self, data: str) -> None:
        self._add(data, self._offset())

    def handle_entityref(self, name: str) -> None:
        self._reference(1 + len(name))

    def handle_charref(self, name: str) -> None:
        self._reference(2 + len(name))

    def _reference(self, length: int) -> None:
        start = self._offset()
        end = start + length + int(self.source.startswith(";", start + length))
        self._add(html.unescape(self.source[start:end]), start, end)

    def visible(self) -> tuple[str, list[int]]:
        """The whitespace-normalised text, and where each ``compact`` character is in it."""
        out: list[str] = []
        where: list[int] = []
        space = False
        for ch in self.chars:
            if ch.isspace():
                space = bool(out)
                continue
            if space:
                out.append(" ")
                space = False
            where.append(len(out))
            out.append(ch)
        return "".join(out), where

    def find(self, quote_md: str) -> tuple[int, int] | None:
        """``compact`` indices of the quote's first occurrence."""
        needle = "".join(quote_text(quote_md).split())
        at = self.compact.find(needle) if needle else -1
        return (at, at + len(needle)) if at >= 0 else None

    def pieces(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """Source slices to wrap for ``compact[lo:hi]``: one per run, whitespace between
        matched characters of a run included, whitespace-only runs left out."""
        slices: list[tuple[int, int]] = []
        first, last = self.kept[lo], self.kept[hi - 1]
        begin = first
        for i in range(first, last + 1):
            if i == last or self.runs[i + 1] != self.runs[i]:
                if not "".join(self.chars[begin : i + 1]).isspace():
                    slices.append((self.starts[begin], self.ends[i]))
                begin = i + 1
        return slices


@lru_cache(maxsize=4096)
def quote_text(quote_md: str) -> str:
    """The visible text of an (inline markdown) quote: rendered, tags dropped."""
    return _Scan(render_inline(quote_md)).visible()[0]


def answer_text(answer_html: str) -> str:
    """The visible text of rendered HTML, whitespace runs collapsed to one space."""
    return _Scan(answer_html).visible()[0]


def find_quote(answer_html: str, quote_md: str) -> tuple[int, int] | None:
    """Where the quote first occurs, as ``start, end`` in ``answer_text(answer_html)``
    (the end is just past its last non-space character), or None if it does not."""
    scan = _Scan(answer_html)
    found = scan.find(quote_md)
    if found is None:
        return None
    where = scan.visible()[1]
    return where[found[0]], where[found[1] - 1] + 1


def highlight(answer_html: str, marks: Sequence[Mark]) -> str:
    """The answer with each mark's quote wrapped in ``<mark>`` pieces and its badge
    after them; see the module docstring for the rules."""
    if not marks:
        return answer_html
    scan = _Scan(answer_html)
    taken: list[tuple[int, int]] = []
    # (offset, order, text): at one offset, closing tags and badges go before openings.
    inserts: list[tuple[int, int, str]] = []
    for mark in marks:
        found = scan.find(mark.quote_md)
        pieces = scan.pieces(*found) if found is not None else []
        if not pieces or any(s < e2 and s2 < e for s, e in pieces for s2, e2 in taken):
            continue
        taken.extend(pieces)
        klass, claim = html.escape(mark.css_class), html.escape(mark.claim_id)
        opening = f'<mark class="{klass}" data-claim="{claim}">'
        for start, end in pieces:
            inserts += [(start, 1, opening), (end, 0, "</mark>")]
        badge_at = pieces[-1][1]
        while badge_at in scan.closers:
            badge_at = scan.closers[badge_at]
        inserts.append((badge_at, 0, mark.badge_html))
    inserts.sort(key=lambda item: item[:2])  # stable: a piece's </mark> precedes its badge
    out: list[str] = []
    pos = 0
    for offset, _, text in inserts:
        out += [answer_html[pos:offset], text]
        pos = offset
    out.append(answer_html[pos:])
    return "".join(out)
