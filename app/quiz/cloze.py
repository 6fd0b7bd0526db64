"""Cloze blanks: which spans of a question's takeaway may be blanked, and the item for one.

A blank is taken, best first, from

1. what the author marked: the question's key terms found in the takeaway, and the
   takeaway's own bold spans (``**在低秩子空间中高效表示**``; a bold label such as
   ``**总结**：`` is not a term);
2. salient terms of the takeaway: quoted phrases (“照着做”), names in Latin script
   (``LoRA``, ``Prompt Tuning``, ``Post-Training``) and Chinese terms the question's
   title names too (``低秩矩阵分解``).

A term of the second kind is short (Chinese up to 12 characters, Latin up to 3 words),
holds no clause punctuation and no formula. No blank ever touches math, splits a Latin
word, or leaves less than 40% of the takeaway visible. The rng only picks among the
candidates, so a seed reproduces the item.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

from app.content.render import render_inline
from app.content.tags import fold
from app.quiz.grade import normalize, plain_text

__all__ = ["BLANK_HTML", "MATH", "cloze_options", "pick_cloze"]

BLANK_HTML = '<span class="blank" aria-label="blank">＿＿＿</span>'
_SENTINEL = "CLOZEBLANK"
# Math as the renderer reads it ($$..$$, $..$, \(..\), \[..\]): a term inside a formula
# is not blanked, since the formula would no longer render.
MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$|\\\(.+?\\\)|\\\[.+?\\\]", re.DOTALL)
_SHORTEST, _LONGEST = 2, 20  # cloze terms outside this length are a last resort
_MOST_CJK, _MOST_WORDS = 12, 3  # a salient term is at most this long
_MIN_VISIBLE = 0.4  # share of the takeaway's text a blank must leave visible

_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_LABEL_AFTER = re.compile(r"\s*[:：]")
_QUOTED = re.compile(r"“([^”\n]+)”|「([^」\n]+)」|『([^』\n]+)』|\"([^\"\n]+)\"")
_LATIN_WORD = r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*"
_LATIN_RUN = re.compile(rf"(?<![A-Za-z0-9]){_LATIN_WORD}(?: {_LATIN_WORD})*(?![A-Za-z0-9])")
# Characters a term never holds: markdown and HTML syntax (the blank must render as the
# text did), formula syntax (and the blot ``_masked`` puts over a formula), and clause
# or list punctuation (a term is not a sentence).
_NOT_IN_TERM = set("*_`<>[]$\\&\"'|~{}^=+/，。；：！？,;:!?、\n\x00")
# Operators that make a Latin span beside them an operand; not "+", "-" or "*", which
# prose uses too ("调学习率 + 梯度裁剪") and markdown uses for bold and lists.
_OPERATORS = set("=/^<>≈≤≥×·")
# Function characters trimmed from the edges of a term shared with the title.
_FUNCTION_CHARS = set("的了是在和与及或把被对从为就也都而则让使将其这那之中上下里")


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def _is_word_char(char: str) -> bool:
    folded = unicodedata.normalize("NFKC", char)
    return folded.isascii() and folded.isalnum()


def _folded(text: str) -> tuple[str, list[int]]:
    """``text`` folded like ``app.content.tags.fold`` (NFKC, casefold, runs of spaces as
    one), with the index in ``text`` each folded character comes from, so a match in the
    folded text maps back to the text as written."""
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


def _masked(text: str) -> str:
    """``text`` with every formula blotted out (same length), so no term is found in one."""
    return MATH.sub(lambda m: "\x00" * len(m.group()), text)


def _splits_word(text: str, start: int, stop: int) -> bool:
    return (start > 0 and _is_word_char(text[start]) and _is_word_char(text[start - 1])) or (
        stop < len(text) and _is_word_char(text[stop - 1]) and _is_word_char(text[stop])
    )


def _occurrence(text: str, term: str) -> tuple[int, int] | None:
    """Where ``term`` first appears in ``text`` (case and width folded), outside math and
    not inside a longer Latin word (``LoRA`` is not blanked inside ``QLoRA``)."""
    needle = fold(term)
    if not needle:
        return None
    haystack, origin = _folded(_masked(text))
    pos = haystack.find(needle)
    while pos != -1:
        end = pos + len(needle)
        start, stop = origin[pos], origin[end - 1] + 1
        # A match must cover whole characters of the text (NFKC can expand one into many).
        whole = (pos == 0 or origin[pos - 1] != start) and (
            end == len(haystack) or origin[end] != stop - 1
        )
        if whole and not _splits_word(text, start, stop):
            return start, stop
        pos = haystack.find(needle, pos + 1)
    return None


def _term_sized(term: str) -> bool:
    """A salient term: short, one line, no formula, markup or clause punctuation."""
    if not term or term != term.strip() or _NOT_IN_TERM & set(term):
        return False
    if any(_is_cjk(c) for c in term):
        return 2 <= len("".join(term.split())) <= _MOST_CJK
    return len(term) >= 2 and len(term.split()) <= _MOST_WORDS


def _beside_operator(text: str, start: int, stop: int) -> bool:
    """Whether a Latin span is an operand (``W = BA``): then it belongs to a formula."""
    if any(_is_cjk(c) for c in text[start:stop]):
        return False
    before, after = text[:start].rstrip(), text[stop:].lstrip()
    return bool(before and before[-1] in _OPERATORS) or bool(after and after[0] in _OPERATORS)


def _bold_spans(masked: str) -> Iterator[tuple[int, int]]:
    for m in _BOLD.finditer(masked):
        if not _LABEL_AFTER.match(masked, m.end()) and _term_sized(m.group(2)):
            yield m.start(2), m.end(2)


def _quoted_spans(masked: str) -> Iterator[tuple[int, int]]:
    for m in _QUOTED.finditer(masked):
        group = next(g for g in range(1, 5) if m.group(g) is not None)
        if _term_sized(m.group(group)):
            yield m.start(group), m.end(group)


def _latin_spans(masked: str) -> Iterator[tuple[int, int]]:
    for m in _LATIN_RUN.finditer(masked):
        term = m.group()
        named = any(c.isupper() for c in term)  # a name or an acronym, not "or"/"and"
        if named and _term_sized(term):
            yield m.span()


def _title_spans(masked: str, title: str) -> Iterator[tuple[int, int]]:
    """The longest runs of Chinese the takeaway shares with the title, at least three
    characters once function characters (的, 是, 中 ...) are trimmed from the edges."""
    reach = 0
    for i, char in enumerate(masked):
        if i < reach or not _is_cjk(char):
            continue
        j = i
        while j < len(masked) and _is_cjk(masked[j]) and masked[i : j + 1] in title:
            j += 1
        start, stop = i, j
        while start < stop and masked[start] in _FUNCTION_CHARS:
            start += 1
        while stop > start and masked[stop - 1] in _FUNCTION_CHARS:
            stop -= 1
        if stop - start >= 3 and _term_sized(masked[start:stop]):
            reach = j
            yield start, stop


def _candidates(text: str, key_terms: Sequence[str], title: str) -> list[tuple[int, int, int]]:
    """(tier, start, stop) of every span that may be blanked, best tier first."""
    masked = _masked(text)
    found: list[tuple[int, int, int]] = []
    for term in key_terms:
        span = _occurrence(text, term)
        if span is not None:
            found.append((0, *span))
    found += [(0, *span) for span in _bold_spans(masked)]
    salient = [*_quoted_spans(masked), *_latin_spans(masked), *_title_spans(masked, title)]
    found += [(1, *span) for span in salient if not _splits_word(text, *span)]
    return [
        (t, start, stop) for t, start, stop in found if not _beside_operator(masked, start, stop)
    ]


def _payload(text: str, start: int, stop: int, sentinel: str) -> dict[str, Any] | None:
    answer = text[start:stop]
    if not normalize(answer):
        return None
    html = render_inline(text[:start] + sentinel + text[stop:])
    # Markdown could swallow or duplicate the sentinel (say, inside a link target):
    # then this blank can't be shown faithfully, so the span is skipped.
    if html.count(sentinel) != 1:
        return None
    visible = len(plain_text(html)) - len(sentinel)
    if visible < _MIN_VISIBLE * (visible + len(answer)):
        return None  # too little left to recall the blank from
    return {
        "html": html.replace(sentinel, BLANK_HTML, 1),
        "answer": answer,
        "hint_length": len(answer),
    }


def cloze_options(
    takeaway: str | None, key_terms: Sequence[str], title: str = ""
) -> list[tuple[int, dict[str, Any]]]:
    """Every cloze the takeaway allows as (tier, payload), one per distinct answer, the
    author's terms (tier 0) before the salient ones (tier 1)."""
    if not takeaway or not takeaway.strip():
        return []
    sentinel = _SENTINEL
    while fold(sentinel) in fold(takeaway):  # never confuse the sentinel with the text
        sentinel += "X"
    seen: set[str] = set()
    options: list[tuple[int, dict[str, Any]]] = []
    for tier, start, stop in _candidates(takeaway, key_terms, title):
        key = fold(takeaway[start:stop])
        if key in seen:
            continue
        payload = _payload(takeaway, start, stop, sentinel)
        if payload is not None:
            seen.add(key)
            options.append((tier, payload))
    return options


def pick_cloze(options: Sequence[tuple[int, dict[str, Any]]], rng: random.Random) -> dict[str, Any]:
    """One of the best tier's clozes, preferring terms of 2 to 20 characters."""
    best = min(tier for tier, _ in options)
    tiered = [p for tier, p in options if tier == best]
    preferred = [p for p in tiered if _SHORTEST <= p["hint_length"] <= _LONGEST]
    return dict(rng.choice(preferred or tiered))
