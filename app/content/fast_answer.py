"""An answer's HTML, key terms, links and formula count from markdown-it-pyrs's own HTML
writer (Rust), equal to the parser's (``reference_answer``) or nothing.

``reference_answer`` is what the parser computes with markdown-it-py's tokens
(``app.content.render``, ``app.content.answer_parts``); ``render_answer`` is
``fast_answer``, or the reference where that returns None. ``fast_answer``:

1. Where the text has a ``$`` (or a table, raw HTML, code at its end, ...), one
   ``tree()`` says where formulas may be, and ``app.content.math_spans`` finds them as
   dollarmath does, in each inline run as markdown-it-py holds it; each must sit in text
   of the Rust tree. Display ``$$`` blocks become an HTML comment line (the text is walked
   again), inline formulas ``$`` + private-use characters + ``$`` (the same punctuation
   around them for emphasis).
2. markdown-it-pyrs renders that text. Its HTML holds no raw HTML but ``<mark>`` (anything
   else is refused), so it is read back into markdown-it-py's inline tokens, run by run:
   ``answer_parts`` reads key terms and links from them, and ``render``'s passes are done
   on the HTML (marks, bare URLs, bold lines, tables), the MathML put back, nh3 last.

It refuses (None) what it cannot vouch for: raw HTML other than ``<mark>`` (and any
``<!``/``<?``), link reference definitions, a ``<mark>`` carried over runs or alone on
its line, formulas in tables or quotes or in a paragraph with a link or a line starting
with a fence marker, a ``$$`` block starting a list item's paragraph or after a
non-blank line, labelled display blocks, URLs markdown-it-py would encode, tables other
than plain piped ones, spaces markdown-it-py trims but Rust keeps, tabs in container
prefixes, a list marker alone on a line or a numbered one right after a quote, a quote's
indented lazy line, a backtick run left open after a ``[``, a fence the text may end
in, a Rust panic; and, where ``render_markdown`` tokenizes the prepared text with
``rs_tokens`` (TeX delimiters), display blocks and odd ``$$`` blocks.
``tests/content/test_fast_answer.py`` checks it against the reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from markdown_it.token import Token

from app.content.answer_parts import key_terms, links
from app.content.fast_checks import refused
from app.content.fast_html import (
    AT,
    BLOCK_HELD,
    INLINE_HELD,
    Fail,
    HtmlRuns,
    Tok,
    bold_lines,
    links_in_html,
    marks,
    render,
)
from app.content.fast_tree import Analysis, analyse
from app.content.markdown import markdown_parser
from app.content.math_spans import skip_backticks
from app.content.render import _mathml, render_markdown
from app.content.rs_inline import Unsupported
from app.content.rs_parser import available
from app.content.sanitize import sanitize_html
from app.content.texprep import (
    needs_prep,
    prepare,
)

__all__ = ["RenderedAnswer", "fast_answer", "reference_answer", "render_answer"]

MATH_TOKENS = frozenset({"math_inline", "math_inline_double", "math_block", "math_block_label"})
_TEX_OPENERS = re.compile(r"\\[(\[]")
_PRIVATE = re.compile("[\ue000-\ue003]")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_HTML_PIECE = re.compile(r"<[^>]*>|[^<]+")
_CELL_STYLE = re.compile(r'<(t[hd]) style="text-align:(left|right|center)">')


@dataclass(frozen=True)
class RenderedAnswer:
    html: str
    key_terms: list[str]
    links: list[str]
    math_spans: int


def reference_answer(answer_md: str) -> RenderedAnswer:
    """markdown-it-py's tokens of the answer alone, as the parser reads them."""
    tokens = markdown_parser().parse(answer_md)
    terms, refs = key_terms(tokens), links(tokens)  # before rendering changes the tokens
    spans = len(_TEX_OPENERS.findall(answer_md))
    for tok in tokens:
        spans += tok.type in MATH_TOKENS
        spans += sum(c.type in MATH_TOKENS for c in tok.children or ())
    return RenderedAnswer(render_markdown(answer_md, tokens), terms, refs, spans)


def render_answer(answer_md: str) -> RenderedAnswer:
    """``fast_answer``, or ``reference_answer`` where it returns None."""
    return fast_answer(answer_md) or reference_answer(answer_md)


def _apply(data: bytes, edits: list[tuple[int, int, str]]) -> str:
    out: list[bytes] = []
    pos = 0
    for start, end, new in sorted(edits):
        if start < pos:
            raise Fail
        out.append(data[pos:start])
        out.append(new.encode())
        pos = end
    out.append(data[pos:])
    return b"".join(out).decode()


def _held(found: Analysis, raw: bool) -> str:
    """The text with its formulas held out: ``$`` + private-use characters + ``$``."""
    spans = found.raw_spans if raw else found.spans
    edits = [(start, end, f"$\ue000{n}\ue001$") for n, (start, end, _) in enumerate(spans)]
    return _apply(found.text.encode(), edits)


def _pieces(html: str) -> list[str]:
    if "<blockquote>\n</blockquote>" in html:
        raise Fail  # markdown-it-py writes an empty quote on one line
    return _HTML_PIECE.findall(html)


def _html(found: Analysis) -> tuple[str, HtmlRuns]:
    """The answer's HTML, and its runs' tokens as the passes saw them (before them)."""
    pieces = _pieces(render(_held(found, raw=False)))
    spans = [span for _, _, span in found.spans]
    runs = HtmlRuns(pieces, spans).read()
    for at in marks(runs.picked(runs.marked)):
        pieces[at // AT] = "</mark>"
    for at in sorted(bold_lines(runs.picked(runs.strong)), reverse=True):
        idx, offset = divmod(at, AT)
        pieces[idx] = pieces[idx][:offset] + "<br />" + pieces[idx][offset:]
    html = links_in_html("".join(pieces))
    if "<table>" in html:
        html = html.replace("<table>", '<div class="table-wrap"><table>')
        html = html.replace("</table>\n", "</table></div>\n")
        html = _CELL_STYLE.sub(r'<\1 align="\2">', html)
    if spans:
        html = INLINE_HELD.sub(
            lambda m: _mathml(spans[int(m.group(1))].tex.strip(), spans[int(m.group(1))].double),
            html,
        )
    if found.blocks:
        blocks = found.blocks
        html = BLOCK_HELD.sub(lambda m: _mathml(blocks[int(m.group(1))].strip(), True) + "\n", html)
    return sanitize_html(html), runs


def _prepare(text: str, found: Analysis) -> str:
    """``texprep.prepare(text, block=True)`` with the code blocks of the Rust tree already
    walked, where they are sure to agree with the outline's: no ``$$`` that could be a
    display block swallowing a fence."""
    if found.code_lines is None or "$$" in text:
        return prepare(text, block=True)
    return prepare(text, block=True, code_lines=found.code_lines)


_BACKTICK_RUN = re.compile(r"`+")


def _lone_backticks_after_bracket(text: str) -> bool:
    """Whether a block has a backtick run without a closer after a ``[``: markdown-it-pyrs
    then misreads (or panics on) the code spans of its link label scan."""
    for block in _BLANK_LINE.split(text):
        start = block.find("[")
        if start < 0:
            continue
        pos = start
        while (run := _BACKTICK_RUN.search(block, pos)) is not None:
            end = skip_backticks(block, run.start())
            if end == run.end():
                return True
            pos = end
    return False


def fast_answer(answer_md: str) -> RenderedAnswer | None:
    """``reference_answer(answer_md)``'s values from markdown-it-pyrs, or None where they
    might differ (module docstring)."""
    if not available() or _PRIVATE.search(answer_md) or "\0" in answer_md or "\r" in answer_md:
        return None
    if "[" in answer_md and "`" in answer_md and _lone_backticks_after_bracket(answer_md):
        return None
    if refused(answer_md):
        return None
    try:
        prep = needs_prep(answer_md)
        raw = analyse(answer_md, want_code=prep)
        # render_markdown reads a text needing step 1 with rs_tokens (see fast_tree.analyse)
        for_html = analyse(_prepare(answer_md, raw), split_parse=True) if prep else raw
        html, runs = _html(for_html)
        if prep or raw.raw_spans != raw.spans:
            pieces = _pieces(render(_held(raw, raw=True)))
            runs = HtmlRuns(pieces, [span for _, _, span in raw.raw_spans]).read()
    except (Fail, Unsupported):
        return None
    strong = [cast(Token, _inline(children)) for children in runs.picked(runs.strong)]
    linked = [cast(Token, _inline(children)) for children in runs.picked(runs.linked)]
    count = len(raw.raw_spans) + len(raw.blocks) + len(_TEX_OPENERS.findall(answer_md))
    return RenderedAnswer(html, key_terms(strong), links(linked), count)


def _inline(children: list[Tok]) -> Tok:
    tok = Tok("inline")
    tok.children = children
    return tok
