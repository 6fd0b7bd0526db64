"""What the parser reads out of an answer's tokens besides its HTML: key terms (short
bold phrases), reference links, ``<mark>`` takeaways, and plain text of a heading."""

from __future__ import annotations

import re
import unicodedata

from markdown_it.token import Token

from app.content.model import Message
from app.content.tags import fold
from app.i18n import mark as N_

__all__ = ["NUMBERING", "key_terms", "links", "marks", "plain"]

# "1. ", "2、", "3)" before a section title or a bold phrase (not "4 倍", not "4.5 倍").
NUMBERING = re.compile(r"^\s*\d+(?:\.\d+)*[.、)）](?:\s+|(?=\D))")
_MARK_TAG = re.compile(r"<(/?)mark\s*>", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>()（）\[\]{}\"'，。、；]+")
_URL_TRAILING = ".,;:!?，。；：！？"
# A key term is short: at most this wide, a CJK character counting two (ten characters
# of Chinese, twenty of Latin). Longer bold spans are sentences, not terms.
_MAX_KEY_TERM = 20
# A trailing gloss: "LORA (Low-Rank Adaptation)" -> "LORA".
_GLOSS = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")
_QUOTES = "“”\"'‘’「」《》"


def plain(inline: Token | None) -> str:
    """The text of an inline token, with links reduced to their text."""
    if inline is None:
        return ""
    parts = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type == "math_inline":
            parts.append(f"${child.content}$")
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def key_terms(tokens: list[Token]) -> list[str]:
    """Short bold phrases of the answer: terms, not headings or sentences. Left out:
    labels such as ``**方法**：`` or ``**总结：**``; a bold span that is its whole line (a
    heading set in bold, as ``- **矩阵的秩**``) or a question; spans wider than
    ``_MAX_KEY_TERM`` once a trailing gloss ("LORA (Low-Rank Adaptation)") is dropped."""
    terms: dict[str, str] = {}
    for tok in tokens:
        children = tok.children or [] if tok.type == "inline" else []
        i = 0
        while i < len(children):
            if children[i].type != "strong_open":
                i += 1
                continue
            start, j, parts = i, i + 1, []
            while j < len(children) and children[j].type != "strong_close":
                if children[j].type in ("text", "code_inline"):
                    parts.append(children[j].content)
                elif children[j].type == "math_inline":
                    parts.append(f"${children[j].content}$")
                j += 1
            after = children[j + 1].content if j + 1 < len(children) else ""
            i = j + 1
            whole_line = not _plain_around(children[:start], before=True) and not _plain_around(
                children[i:], before=False
            )
            term = NUMBERING.sub("", re.sub(r"\s+", " ", "".join(parts))).strip()
            is_label = term.endswith((":", "：")) or after.lstrip().startswith((":", "："))
            term = _GLOSS.sub("", term).strip(_QUOTES + " ")
            if (
                term
                and not is_label
                and not whole_line
                and not term.endswith(("?", "？"))
                and _width(term) <= _MAX_KEY_TERM
            ):
                terms.setdefault(fold(term), term)
    return list(terms.values())


def _plain_around(children: list[Token], *, before: bool) -> str:
    """The visible text on the bold span's own line: of ``children`` before it (after
    the last line break) or after it (up to the first)."""
    text: list[str] = []
    for child in reversed(children) if before else children:
        if child.type in ("softbreak", "hardbreak"):
            break
        if child.type in ("text", "code_inline", "math_inline", "html_inline"):
            text.append(child.content)
    return "".join(text).strip()


def links(tokens: list[Token]) -> list[str]:
    links: dict[str, None] = {}
    for tok in tokens:
        for child in tok.children or [] if tok.type == "inline" else []:
            href = child.attrs.get("href") if child.type == "link_open" else None
            if isinstance(href, str) and href.startswith(("http://", "https://")):
                links[href] = None
            elif child.type == "text":
                for url in _URL.findall(child.content):
                    links[url.rstrip(_URL_TRAILING)] = None
    return list(links)


def marks(answer: str, code_lines: set[int]) -> tuple[str, list[str], list[tuple[int, Message]]]:
    """Find ``<mark>`` takeaways outside code; repair a ``<mark>`` that closes a mark or
    one left open. Returns (repaired answer, takeaways, [(relative line, problem)])."""
    lines = answer.split("\n")
    masked = "\n".join(" " * len(s) if n in code_lines else s for n, s in enumerate(lines))
    takeaways: list[str] = []
    problems: list[tuple[int, Message]] = []
    repairs: list[tuple[int, int, str]] = []
    opened: int | None = None
    for m in _MARK_TAG.finditer(masked):
        line = masked.count("\n", 0, m.start())
        closing = m.group(1) == "/"
        if opened is None and closing:
            problems.append((line, Message(N_("</mark> without an opening <mark>; ignored"))))
        elif opened is None:
            opened = m.end()
        else:
            if not closing:
                problem = Message(N_("<mark> closed by a second <mark>; read as </mark>"))
                problems.append((line, problem))
                repairs.append((m.start(), m.end(), "</mark>"))
            takeaways.append(answer[opened : m.start()].strip())
            opened = None
    if opened is not None:
        line = masked.count("\n", 0, opened)
        problem = Message(N_("<mark> is never closed; it runs to the end of the answer"))
        problems.append((line, problem))
        takeaways.append(answer[opened:].strip())
        repairs.append((len(answer), len(answer), "</mark>"))
    for start, end, text in reversed(repairs):
        answer = answer[:start] + text + answer[end:]
    return answer, [t for t in takeaways if t], problems
