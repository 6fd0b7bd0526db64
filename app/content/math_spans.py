"""Dollar math found as markdown-it-py's dollarmath plugin finds it (``app.content.markdown``'s
options: no space inside the dollars, no digit outside, ``$$`` inline, labels, blank lines),
without markdown-it-py: ``app.content.fast_answer`` holds the formulas out of the text it
hands to markdown-it-pyrs, which has no dollar math.

- ``inline_spans``: the formulas of one inline run (a paragraph's text, as markdown-it-py's
  inline token holds it). The plugin's rule runs before the escape and backtick rules, at
  every ``$`` the scan reaches; the scan skips what other rules consume whole and that can
  hold a ``$``: escapes, code spans, autolinks and raw HTML tags. (Links are the caller's:
  a link's destination is consumed too.) Its quirks are kept: the character before an
  opening ``$`` is ``src[pos - 1]``, which at position 0 is the *last* character.
- ``block_span``: a ``$$`` display block starting on a line, as the block rule reads it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from markdown_it.common.html_re import HTML_TAG_RE
from markdown_it.common.utils import isWhiteSpace
from markdown_it.rules_inline.autolink import AUTOLINK_RE, EMAIL_RE

from app.content.markdown import markdown_parser

__all__ = ["BlockSpan", "Span", "block_span", "inline_spans", "skip_backticks"]

# Where a rule other than plain text may start, in what ``inline_spans`` needs to follow.
_SPECIAL = re.compile(r"[$\\`<]")
# dollarmath's reversed ``$$ .. $$ (label)`` ending.
_EQNO_REV = re.compile(r"^\s*\)([^)$\r\n]+?)\(\s*\${2}")


class Span(NamedTuple):
    """One inline formula: ``src[start:end]`` with its dollars, and its TeX."""

    start: int
    end: int
    double: bool
    tex: str


class BlockSpan(NamedTuple):
    """A display block: lines ``first`` to ``last`` (inclusive) and its TeX; ``label`` is
    the ``(eq)`` suffix's, if any."""

    first: int
    last: int
    tex: str
    label: str | None


def _escaped(src: str, back_pos: int) -> bool:
    """dollarmath's ``is_escaped`` (odd backslashes before; index -1 wraps around)."""
    backslashes = 0
    while back_pos >= 0:
        back_pos -= 1
        if src[back_pos] == "\\":
            backslashes += 1
        else:
            break
    return backslashes % 2 == 1


def _math_at(src: str, pos: int) -> Span | None:
    """dollarmath's inline rule at ``src[pos] == "$"``, with allow_space=False,
    allow_digits=False, double_inline=True."""
    n = len(src)
    if pos + 1 >= n or isWhiteSpace(ord(src[pos + 1])):
        return None
    if src[pos - 1].isdigit() or _escaped(src, pos):
        return None
    double = src[pos + 1] == "$"
    search = pos + 1 + double
    while True:
        end = src.find("$", search)
        if end == -1:
            return None
        if _escaped(src, end):
            search = end + 1
            continue
        if double:
            if end + 1 >= n:
                return None
            if src[end + 1] != "$":
                search = end + 1
                continue
            end += 1
        break
    if isWhiteSpace(ord(src[end - 1])):
        return None
    if end + 1 < n and src[end + 1].isdigit():
        return None
    tex = src[pos + 2 : end - 1] if double else src[pos + 1 : end]
    if not tex:
        return None
    return Span(pos, end + 1, double, tex)


def skip_backticks(src: str, pos: int) -> int:
    """markdown-it-py's backtick rule: past the code span, or past the opening run."""
    n = len(src)
    end = pos + 1
    while end < n and src[end] == "`":
        end += 1
    length = end - pos
    match_end = end
    while (match_start := src.find("`", match_end)) != -1:
        match_end = match_start + 1
        while match_end < n and src[match_end] == "`":
            match_end += 1
        if match_end - match_start == length:
            return match_end
    return end


def _valid_autolink(url: str) -> bool:
    md = markdown_parser()
    return bool(md.validateLink(md.normalizeLink(url)))


def _angle(src: str, pos: int) -> int:
    """markdown-it-py's autolink, then raw HTML, rule at ``<``: past what they consume."""
    close = src.find(">", pos + 1)
    if close != -1 and "<" not in src[pos + 1 : close]:
        url = src[pos + 1 : close]
        if AUTOLINK_RE.search(url) is not None:
            if _valid_autolink(url):
                return close + 1
        elif EMAIL_RE.search(url) is not None and _valid_autolink("mailto:" + url):
            return close + 1
    if pos + 2 < len(src):
        ch = src[pos + 1]
        if ch in "!?/" or ("a" <= ch.lower() <= "z" and ch.isascii()):
            match = HTML_TAG_RE.match(src, pos)
            if match is not None:
                return match.end()
    return pos + 1


def inline_spans(src: str) -> list[Span]:
    """The formulas markdown-it-py finds in the inline content ``src``."""
    spans: list[Span] = []
    pos = 0
    n = len(src)
    while (found := _SPECIAL.search(src, pos)) is not None:
        pos = found.start()
        ch = src[pos]
        if ch == "$":
            span = _math_at(src, pos)
            if span is not None:
                spans.append(span)
                pos = span.end
            else:
                pos += 1
        elif ch == "\\":
            pos += 2 if pos + 1 < n else 1
        elif ch == "`":
            pos = skip_backticks(src, pos)
        else:
            pos = _angle(src, pos)
    return spans


def block_span(lines: list[str], first: int) -> BlockSpan | None:
    """dollarmath's block rule at ``lines[first]`` (a top-level line, indented less than
    four columns, that starts a block): the display block, or None (a paragraph)."""
    line = lines[first]
    start = len(line) - len(line.lstrip(" \t"))
    text = line[start:]
    if len(text) < 2 or not text.startswith("$$"):
        return None
    label: str | None = None
    stripped = text.strip()
    if len(stripped) > 3:
        if stripped.endswith("$$"):
            end = len(line) - 2 - (len(text) - len(stripped))
            return BlockSpan(first, first, line[start + 2 : end], None)
        eqno = _EQNO_REV.match(text[::-1])
        if eqno is not None:
            label = eqno.group(1)[::-1]
            return BlockSpan(first, first, line[start + 2 : len(line) - eqno.end()], label)
        if "$$" in text[2:]:
            return None
    for last in range(first + 1, len(lines)):
        line_text = lines[last].lstrip(" \t")
        end = len(lines[last])
        if line_text.strip().endswith("$$"):
            end = end - 2 - (len(line_text) - len(line_text.strip()))
        else:
            eqno = _EQNO_REV.match(line_text[::-1])
            if eqno is None:
                continue
            label = eqno.group(1)[::-1]
            end = end - eqno.end()
        body = [line[start + 2 :], *lines[first + 1 : last], lines[last][:end]]
        return BlockSpan(first, last, "\n".join(body), label)
    return None
