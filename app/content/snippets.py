"""Search snippets: a short window of a question's answer around the first match of a
search, with every searched word marked (``<mark>``) and everything else escaped.

Matching folds case and width like the search itself (``app.content.tags.fold``), and
maps each folded character back to the text as written, so the marks land on the
original spelling (``ＬｏＲＡ`` marked for a search of ``lora``).

Math is shown as the answer shows it: each formula is rendered on its own by
``app.content.render.render_inline`` (MathML, sanitised), inline, never as TeX source;
a search word is never matched inside a formula's source."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

from markupsafe import Markup, escape

__all__ = ["FORMULA", "folded", "plain_text", "snippet"]

# Markdown emphasis, code ticks, inline HTML, heading and list markers, stray dollars.
_MARKUP = re.compile(r"\*\*|__|`|<[^>]{1,40}>|^\s{0,3}(?:#{1,6}|[-*+]|\d+[.)])\s+|\$+", re.M)
# A formula as the renderer reads it: $$..$$, $..$, \(..\), \[..\] (the TeX in a group).
_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
FORMULA = "\ue000"  # stands for one formula in the plain text (a private-use character)
WIDTH = 60  # characters of context on each side of the first match


def folded(text: str) -> tuple[str, list[int]]:
    """``text`` folded as ``fold`` does (NFKC, casefold, runs of spaces as one), with the
    index in ``text`` each folded character comes from."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char.isspace():
            if chars and chars[-1] == " ":
                continue
            piece = " "
        else:
            piece = unicodedata.normalize("NFKC", char).casefold()
        chars.extend(piece)
        origin.extend([index] * len(piece))
    return "".join(chars), origin


def plain_text(markdown: str) -> tuple[str, list[str]]:
    """The answer's words without markdown punctuation, on one line, each formula as
    ``FORMULA``; and the formulas' TeX, in order."""
    formulas: list[str] = []

    def keep(match: re.Match[str]) -> str:
        tex = next(group for group in match.groups() if group is not None)
        formulas.append(" ".join(tex.split()))
        return FORMULA

    text = _MATH.sub(keep, markdown.replace(FORMULA, ""))
    return " ".join(_MARKUP.sub("", text).split()), formulas


def _formula_html(tex: str) -> Markup:
    """A formula rendered inline (a display formula too: a snippet is one line); the
    renderer's output is sanitised HTML. The renderer (markdown-it, latex2mathml, nh3)
    is imported here, not with the module: the home page lists chapters without it."""
    from app.content.render import render_inline

    return Markup(render_inline(f"${tex}$" if tex else ""))


def _spans(text: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """Every occurrence of any of ``words`` in ``text``, as merged (start, stop) spans."""
    haystack, origin = folded(text)
    found: list[tuple[int, int]] = []
    for word in words:
        if not word:
            continue
        pos = haystack.find(word)
        while pos != -1:
            found.append((origin[pos], origin[pos + len(word) - 1] + 1))
            pos = haystack.find(word, pos + len(word))
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(stop, merged[-1][1]))
        else:
            merged.append((start, stop))
    return merged


def snippet(markdown: str, words: Sequence[str], *, width: int = WIDTH) -> Markup | None:
    """Escaped HTML of the answer around its first match of ``words`` (folded search
    words), each match in ``<mark>``; None when the answer holds none of them."""
    text, formulas = plain_text(markdown)
    spans = _spans(text, words)
    if not spans:
        return None
    begin = max(0, spans[0][0] - width)
    end = min(len(text), spans[0][1] + width)
    shown = iter(formulas[text[:begin].count(FORMULA) :])

    def piece(part: str) -> Markup:
        """``part`` escaped, each ``FORMULA`` in it replaced by the next formula's HTML."""
        return Markup("").join(_pieces(part, shown))

    parts: list[str] = ["…" if begin else ""]
    cursor = begin
    for start, stop in spans:
        if start >= end:
            break
        end = max(end, stop)  # a match the window cuts into is shown whole
        parts.append(piece(text[cursor:start]))
        parts.append(Markup("<mark>{}</mark>").format(piece(text[start:stop])))
        cursor = stop
    parts.append(piece(text[cursor:end]))
    parts.append("…" if end < len(text) else "")
    return Markup("").join(parts)


def _pieces(part: str, formulas: Iterator[str]) -> Iterator[Markup]:
    for index, chunk in enumerate(part.split(FORMULA)):
        if index:
            yield _formula_html(next(formulas, ""))
        yield escape(chunk)
