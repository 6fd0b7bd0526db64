"""Render a question's markdown to sanitised HTML, with math as MathML (done at import).

Steps (DESIGN.md, "Known pitfalls"):

1. ``app.content.texprep``: ``\\(..\\)`` and ``\\[..\\]`` become ``$..$`` and ``$$..$$``
   outside code, and a lone ``<mark>`` line is joined to the next line.
2. The shared parser (``app.content.markdown``) builds tokens; our renderer turns math
   into MathML with latex2mathml, wraps tables so they scroll on a phone, and carries a
   ``<mark>`` across paragraphs (each paragraph gets its own ``<mark>``).
3. ``app.content.sanitize``: nh3 with an explicit allow-list. This runs last because
   latex2mathml copies ``\\text{...}`` verbatim, tags included.

``math="tex"`` keeps each formula as its TeX source between ``\\(..\\)`` / ``\\[..\\]``
(HTML-escaped text) instead of MathML: the form Anki's MathJax reads (``app.export.anki``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal, Protocol, TypeVar
from xml.etree.ElementTree import tostring

from latex2mathml.converter import convert_to_element
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from app.content.markdown import markdown_parser
from app.content.rs_tokens import parse_inline, parse_tokens
from app.content.sanitize import escape_raw_mathml, sanitize_html
from app.content.texprep import needs_prep, prepare

__all__ = ["MathOutput", "bold_line_breaks", "render_inline", "render_markdown", "sanitize_html"]

MathOutput = Literal["mathml", "tex"]

_MARK_OPEN = re.compile(r"^<mark\s*>$", re.IGNORECASE)
_MARK_CLOSE = re.compile(r"^</mark\s*>$", re.IGNORECASE)
# latex2mathml writes symbols as numeric character references inside element text.
_ESCAPED_CHARREF = re.compile(r"&amp;(#x[0-9A-Fa-f]{1,6};)")

_PRIME_MI = re.compile(r"<mi>([′″‴]|&#x0?203[234];)</mi>")


@lru_cache(maxsize=8192)
def _mathml(tex: str, display: bool) -> str:
    """MathML for one formula; a bank repeats formulas, so conversions are cached.

    The formula is contained in its span: ``latex2mathml.convert`` unescapes its output,
    so ``\\text{<img ...>}`` came out as a live (and unclosed) tag that swallowed the rest
    of the answer. The element tree is serialised here without that step (text stays
    escaped, tags balanced); only the numeric character references latex2mathml writes
    for symbols are restored."""
    try:
        element = convert_to_element(tex, display="block" if display else "inline")
    except Exception:  # latex2mathml raises many types; a bad formula must not stop import
        return f'<code class="math-error">{escapeHtml(tex)}</code>'
    mathml = _ESCAPED_CHARREF.sub(r"&\1", tostring(element, encoding="unicode"))
    # latex2mathml writes the prime of W' as an identifier, which browsers set upright
    # and apart from the letter; as an operator without spacing it sits against it.
    return _PRIME_MI.sub(r'<mo lspace="0" rspace="0">\1</mo>', mathml)


def _carry_marks(tokens: list[Token]) -> None:
    """Close a ``<mark>`` at the end of each inline run and reopen it in the next one, so
    a highlight over several paragraphs survives the HTML parser (``mark`` cannot hold a
    ``<p>``). A ``<mark>`` or ``</mark>`` alone in a raw HTML block only moves the state.
    A ``<mark>`` inside a highlight closes it, as the file parser reads it, so its tokens
    render the same as its repaired text."""
    opened = False
    for tok in tokens:
        lone = tok.content.strip() if tok.type == "html_block" else ""
        if _MARK_OPEN.match(lone) or _MARK_CLOSE.match(lone):
            opened = not opened if _MARK_OPEN.match(lone) else False
            tok.content = ""
        elif tok.type == "inline" and tok.children is not None:
            reopen = opened
            for child in tok.children:
                if child.type == "html_inline" and _MARK_OPEN.match(child.content):
                    child.content = "</mark>" if opened else child.content
                    opened = not opened
                elif child.type == "html_inline" and _MARK_CLOSE.match(child.content):
                    opened = False
            if reopen:
                tok.children.insert(0, Token("html_inline", "", 0, content="<mark>"))
            if opened:
                tok.children.append(Token("html_inline", "", 0, content="</mark>"))


class _Renderer(RendererHTML):
    """markdown-it's HTML renderer plus math, wrapped tables and aligned cells."""

    def math_inline(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        # ``$$..$$`` inside a paragraph (``math_inline_double``) is display math.
        return _mathml(tokens[idx].content.strip(), tokens[idx].type == "math_inline_double")

    math_inline_double = math_inline

    def html_inline(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return escape_raw_mathml(tokens[idx].content)

    def html_block(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return escape_raw_mathml(tokens[idx].content)

    def math_block(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return _mathml(tokens[idx].content.strip(), True) + "\n"

    def math_block_label(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        label = f'<span class="math-label">({escapeHtml(tokens[idx].info)})</span>'
        return f"<div>{_mathml(tokens[idx].content.strip(), True)}{label}</div>\n"

    def table_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return '<div class="table-wrap"><table>\n'

    def table_close(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return "</table></div>\n"

    def _cell_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        # markdown-it aligns with ``style``, which the sanitiser drops; ``align`` survives.
        token = tokens[idx]
        style = token.attrGet("style")
        if isinstance(style, str) and style.startswith("text-align:"):
            return f'<{token.tag} align="{escapeHtml(style.removeprefix("text-align:"))}">'
        return f"<{token.tag}>"

    th_open = td_open = _cell_open


def _tex(tex: str, display: bool) -> str:
    """One formula as MathJax-delimited TeX text (escaped: ``a<b`` stays text)."""
    return f"\\[{escapeHtml(tex)}\\]" if display else f"\\({escapeHtml(tex)}\\)"


class _TexRenderer(_Renderer):
    """The same HTML with formulas left as TeX for MathJax (Anki), not MathML."""

    def math_inline(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return _tex(tokens[idx].content.strip(), tokens[idx].type == "math_inline_double")

    math_inline_double = math_inline

    def math_block(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return f"<div>{_tex(tokens[idx].content.strip(), True)}</div>\n"

    def math_block_label(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        label = f'<span class="math-label">({escapeHtml(tokens[idx].info)})</span>'
        return f"<div>{_tex(tokens[idx].content.strip(), True)}{label}</div>\n"


_RENDERERS: dict[str, _Renderer] = {"mathml": _Renderer(), "tex": _TexRenderer()}


_BARE_URL = re.compile(r"https?://[^\s<>\"'，。；、）)\]]+")


def _link_text(content: str) -> list[Token]:
    """``content`` with each bare http(s) URL made a link (its text the URL)."""
    out: list[Token] = []
    pos = 0
    for m in _BARE_URL.finditer(content):
        url = m.group().rstrip(".,;:!?")
        if m.start() > pos:
            out.append(Token("text", "", 0, content=content[pos : m.start()]))
        out.append(Token("link_open", "a", 1, attrs={"href": url}))
        out.append(Token("text", "", 0, content=url))
        out.append(Token("link_close", "a", -1))
        pos = m.start() + len(url)
    if pos < len(content):
        out.append(Token("text", "", 0, content=content[pos:]))
    return out


def _links_and_bold_lines(tokens: list[Token]) -> None:
    """Make bare URLs links, and start a bold line that follows another line on its own
    line (``参考链接：URL`` then ``**Prompt Tuning**`` must not read as one run)."""
    for tok in tokens:
        if tok.type != "inline" or not tok.children:
            continue
        children: list[Token] = []
        in_link = False
        for child in tok.children:
            in_link = child.type == "link_open" or (in_link and child.type != "link_close")
            if child.type == "text" and not in_link and _BARE_URL.search(child.content):
                children.extend(_link_text(child.content))
            else:
                children.append(child)
        for child in bold_line_breaks(children):
            child.type, child.tag = "hardbreak", "br"
        tok.children = children


class _Child(Protocol):
    type: str
    content: str


_C = TypeVar("_C", bound=_Child)


def bold_line_breaks(children: Sequence[_C]) -> list[_C]:
    """The soft breaks of an inline run that start a bold line: each followed by a bold
    span that its line ends with (``app.content.fast_html`` reads the same rule on the
    writer's HTML)."""
    seen = [c for c in children if c.type != "text" or c.content.strip()]
    breaks = []
    for i, child in enumerate(seen[:-1]):
        if child.type == "softbreak" and seen[i + 1].type == "strong_open":
            rest = seen[i + 1 :]
            end = next((k for k, c in enumerate(rest) if c.type == "strong_close"), None)
            after = rest[end + 1] if end is not None and end + 1 < len(rest) else None
            if end is not None and (after is None or after.type in ("softbreak", "hardbreak")):
                breaks.append(child)
    return breaks


def _leading_math(tokens: list[Token]) -> None:
    """Parse again, with a space in front, each inline run that starts with ``$`` and ends
    with a digit or a backslash: dollarmath checks the character before an opening ``$``
    as ``src[pos - 1]``, which at position 0 is the run's *last* character, so
    ``$nh$ = 20`` stayed raw TeX while ``a $nh$ = 20`` rendered. The space has no previous
    character to be mistaken; it is removed again from the first text token."""
    for tok in tokens:
        content = tok.content
        if tok.type != "inline" or not content.startswith("$"):
            continue
        if not (content[-1].isdigit() or content[-1] == "\\"):  # what dollarmath reads
            continue
        children = markdown_parser().parseInline(" " + content)[0].children or []
        first = children[0] if children else None
        if first is None or first.type != "text" or not first.content.startswith(" "):
            continue  # not expected; keep what the first parse gave
        first.content = first.content[1:]
        tok.children = children[1:] if not first.content else children


def _html(tokens: list[Token], math: MathOutput) -> str:
    _leading_math(tokens)
    _carry_marks(tokens)
    _links_and_bold_lines(tokens)
    html = _RENDERERS[math].render(tokens, markdown_parser().options, {})
    return sanitize_html(html)


def render_markdown(
    md_text: str, tokens: list[Token] | None = None, *, math: MathOutput = "mathml"
) -> str:
    """Block markdown -> sanitised HTML (paragraphs, lists, tables, code, MathML).

    ``tokens``, if given, are ``md_text``'s tokens from the shared parser (the file
    parser's own): they are used (and modified) instead of parsing again, unless step 1
    would change the text. Parsing is most of an import's time. ``math="tex"``: formulas
    as delimited TeX (module docstring)."""
    if tokens is None or needs_prep(md_text):
        tokens = parse_tokens(prepare(md_text, block=True))
    return _html(tokens, math)


# What can make one line of text more than text: markup, entities, raw HTML, math, TeX
# delimiters, control characters, a URL (made a link), a run of spaces.
_MARKUP = re.compile(r"[\x00-\x1f\\`*_\[\]<>&$~|#{}^]|://|\s{2}")


def render_inline(md_text: str, *, math: MathOutput = "mathml") -> str:
    """One line of markdown (a title, a takeaway) -> sanitised HTML with no ``<p>``.
    Plain text (most titles) is only escaped: what parsing it would give."""
    if not _MARKUP.search(md_text):
        return sanitize_html(escapeHtml(md_text))
    return _html(parse_inline(prepare(md_text, block=False)), math)
