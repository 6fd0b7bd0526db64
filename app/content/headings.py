"""Where a question starts: its heading, as written by hand.

The format's heading is ``### Q. question``. A hand-written bank drifts from it, and a
question the parser misses is worse than a warning: its text silently joins the answer
above. So, beside ``### Q. x`` (and ``### Q.x``, ``### Q x``, ``### Q1：x``, ``### ### Q.
x``), a question also starts at:

- any heading of level 2 to 6 followed by a metadata line (``#### Q. x``, ``## 3. x``);
- a line ``###Q. x`` with no space after the hashes (Markdown reads it as text, so other
  viewers show it as text: a warning says so), or a line ``Q. x``, ``**Q1: x**`` or
  ``##Q. x`` followed by a metadata line.

What still looks like a question but is not read as one is a warning at its line: a
``#### Q.`` heading with no metadata line under it, or a metadata line (one with a
company field) inside an answer.
Lines in code blocks are never questions: only top-level paragraphs are read here.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from markdown_it.token import Token

__all__ = ["QUESTION", "Block", "heading_text", "metadata_lines", "top_level_blocks"]

QUESTION = re.compile(r"^[QＱ]\d*(?:[.．:：、][ \t]*|[ \t]+|$)(?P<title>.*)$")
_HEADING_HASHES = re.compile(r"^\s*(?:#{1,6}(?:[ \t]+|$))+")
_CLOSING_HASHES = re.compile(r"[ \t]+#+[ \t]*$")

# A line of a paragraph that may start a question: hashes with no space before ``Q``, a
# bold ``Q`` line, or a bare ``Q.``/``Q1：`` line (three spaces of indent at most).
_LOOSE = re.compile(
    r" {0,3}(?:(?P<hashes>#{1,6})(?=[QＱ])|(?P<bold>\*\*|__)[ \t]*(?=[QＱ])"
    r"|(?=[QＱ]\d*[.．:：、]))"
)
# The same at each line's start, for one pass over a file: a pattern that starts with a
# literal is searched for that literal first (5 times faster than ``^`` with MULTILINE).
_LOOSE_AT_LINE = re.compile("\n" + _LOOSE.pattern)
# A metadata line's start with a company field (most have one), for the scan of lines in
# answers (confirmed by the parser's ``looks_like_metadata``); found from the field's name.
_COMPANY_WORDS = ("ompany", "OMPANY", "公司")
_COMPANY_AT_START = re.compile(
    r"[ \t>]*(?:\*\*|__)?[ \t]*(?:[Cc]ompany|COMPANY|公司)[ \t]*(?:\*\*|__)?[ \t]*[:：]"
)


def heading_text(line: str) -> str:
    """``### ### Q. title ##`` -> ``Q. title`` (markdown kept, hashes gone)."""
    text = _CLOSING_HASHES.sub("", _HEADING_HASHES.sub("", line.rstrip()))
    return re.sub(r"\s+", " ", text).strip()


def loose_heading(line: str) -> tuple[str, bool] | None:
    """A paragraph's line that may start a question: its title, and whether it is one
    even without a metadata line under it (``###Q. x``, as ``### Q. x`` is); None for
    any other line."""
    match = _LOOSE.match(line)
    if match is None:
        return None
    text = line[match.end() :].strip()
    bold = match.group("bold")
    if bold is not None:
        if not text.endswith(bold):
            return None
        text = text.removesuffix(bold).strip()
    question = QUESTION.match(re.sub(r"\s+", " ", _CLOSING_HASHES.sub("", text)))
    if question is None:
        return None
    hashes = match.group("hashes")
    return question["title"].strip(), hashes == "###"


def _line_numbers(text: str, offsets: list[int]) -> list[int]:
    """The 0-based lines of the sorted ``offsets`` into ``text``."""
    found: list[int] = []
    line, pos = 0, 0
    for offset in offsets:
        line += text.count("\n", pos, offset)
        pos = offset
        found.append(line)
    return found


def loose_lines(text: str) -> list[int]:
    """The 0-based lines of ``text`` that ``loose_heading`` may read (one pass over the
    file: a well-formed bank has none)."""
    starts = [m.start() for m in _LOOSE_AT_LINE.finditer("\n" + text)]  # line starts, + 1
    return _line_numbers(text, starts)


def metadata_lines(text: str) -> list[int]:
    """The 0-based lines of ``text`` that start with a company field's name and colon,
    for the parser to warn of those no question heading claimed (it checks them with
    ``looks_like_metadata``). Found from the name (``str.find``) rather than a regex at
    every line: 0.03 CPU-s for 10,000 questions against 0.11."""
    starts = set()
    for word in _COMPANY_WORDS:
        pos = text.find(word)
        while pos >= 0:
            start = text.rfind("\n", 0, pos) + 1
            if _COMPANY_AT_START.match(text, start):
                starts.add(start)
            pos = text.find(word, pos + 1)
    return _line_numbers(text, sorted(starts))


@dataclass
class Block:
    """A top-level block: its token index, its 0-based line range, its inline token. A
    ``loose`` block is a paragraph's line that may start a question (``headings``), with
    its ``title``; the paragraph's lines around it are blocks of their own."""

    type: str
    tag: str
    token: int
    start: int
    end: int
    inline: Token | None
    title: str = ""
    strict: bool = False  # ``###Q. x``: a question without a metadata line, as ``### Q.``


def _blocks(tokens: list[Token]) -> list[Block]:
    blocks = []
    for i, tok in enumerate(tokens):
        if tok.level != 0 or tok.map is None or tok.nesting == -1:
            continue
        inline = tokens[i + 1] if i + 1 < len(tokens) and tokens[i + 1].type == "inline" else None
        kind = tok.type.removesuffix("_open")
        blocks.append(Block(kind, tok.tag, i, tok.map[0], tok.map[1], inline))
    return blocks


def _split_loose(blocks: list[Block], lines: list[str], text: str) -> list[Block]:
    """``blocks`` with each top-level paragraph line that ``loose_heading`` reads made a
    ``loose`` block of its own (lines in code, lists and quotes are left alone)."""
    candidates = loose_lines(text)
    if not candidates:
        return blocks
    starts = [b.start for b in blocks]
    found: dict[int, list[tuple[int, str, bool]]] = {}
    for line0 in candidates:
        at = bisect_right(starts, line0) - 1
        if at < 0 or blocks[at].type != "paragraph" or line0 >= blocks[at].end:
            continue
        loose = loose_heading(lines[line0])
        if loose is not None:
            found.setdefault(at, []).append((line0, *loose))
    out: list[Block] = []
    for at, block in enumerate(blocks):
        pos = block.start
        for line0, title, strict in found.get(at, ()):
            if line0 > pos:
                out.append(Block("paragraph", "p", block.token, pos, line0, None))
            out.append(Block("loose", "", block.token, line0, line0 + 1, None, title, strict))
            pos = line0 + 1
        if pos == block.start:
            out.append(block)
        elif pos < block.end:
            out.append(Block("paragraph", "p", block.token, pos, block.end, None))
    return out


def top_level_blocks(tokens: list[Token], lines: list[str], text: str) -> list[Block]:
    """The file's top-level blocks from its outline tokens, loose question lines split
    out of their paragraphs."""
    return _split_loose(_blocks(tokens), lines, text)
