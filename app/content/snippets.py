"""Search snippets: a short window of a question's answer around the first match of a
search, with every searched word marked (``<mark>``) and everything else escaped.

Matching folds case and width like the search itself (``app.content.tags.fold``), and
maps each folded character back to the text as written, so the marks land on the
original spelling (``ＬｏＲＡ`` marked for a search of ``lora``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from markupsafe import Markup, escape

__all__ = ["folded", "plain_text", "snippet"]

# Markdown emphasis, code ticks, inline HTML, heading and list markers, math delimiters.
_MARKUP = re.compile(r"\*\*|__|`|<[^>]{1,40}>|^\s{0,3}(?:#{1,6}|[-*+]|\d+[.)])\s+|\$+", re.M)
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


def plain_text(markdown: str) -> str:
    """The answer's words without markdown punctuation, on one line."""
    return " ".join(_MARKUP.sub("", markdown).split())


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
    text = plain_text(markdown)
    spans = _spans(text, words)
    if not spans:
        return None
    begin = max(0, spans[0][0] - width)
    end = min(len(text), spans[0][1] + width)
    parts: list[str] = ["…" if begin else ""]
    cursor = begin
    for start, stop in spans:
        if start >= end:
            break
        end = max(end, stop)  # a match the window cuts into is shown whole
        parts.append(escape(text[cursor:start]))
        parts.append(Markup("<mark>{}</mark>").format(text[start:stop]))
        cursor = stop
    parts.append(escape(text[cursor:end]))
    parts.append("…" if end < len(text) else "")
    return Markup("").join(parts)
