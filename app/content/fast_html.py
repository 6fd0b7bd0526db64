"""The HTML side of ``app.content.fast_answer``: markdown-it-pyrs's HTML read back into
markdown-it-py's inline tokens (for ``answer_parts`` and ``render``'s passes), and the
passes done on the HTML."""

from __future__ import annotations

import html as html_lib
import re

from markdown_it.common.utils import escapeHtml

from app.content.math_spans import Span
from app.content.render import _BARE_URL, _MARK_CLOSE, _MARK_OPEN, bold_line_breaks
from app.content.rs_inline import _url
from app.content.rs_parser import rust_html

__all__ = [
    "AT",
    "BLOCK_HELD",
    "INLINE_HELD",
    "Fail",
    "HtmlRuns",
    "Tok",
    "bold_lines",
    "links_in_html",
    "marks",
    "render",
]

INLINE_HELD = re.compile("\\$\ue000(\\d+)\ue001\\$")
BLOCK_HELD = re.compile("<!--\ue002(\\d+)\ue003-->\n")
_MARK_TAG = re.compile(r"<(/?)mark\s*>", re.IGNORECASE)
_HTML_PIECE = re.compile(r"<[^>]*>|[^<]+")


class Tok:
    """The little of a markdown-it-py token ``answer_parts`` and the passes read."""

    __slots__ = ("type", "content", "attrs", "children", "at")

    def __init__(
        self, type_: str, content: str = "", attrs: dict[str, str] | None = None, at: int = -1
    ) -> None:
        self.type = type_
        self.content = content
        self.attrs: dict[str, str] = attrs or {}
        self.children: list[Tok] | None = None
        self.at = at  # a break's byte offset in the text


class Fail(Exception):
    """Not sure to match markdown-it-py: the caller falls back."""


def render(text: str) -> str:
    html = rust_html(text)
    if html is None:
        raise Fail  # a Rust panic
    return html


def marks(runs: list[list[Tok]]) -> list[int]:
    """``render._carry_marks`` on the runs: the HTML pieces of the ``<mark>`` tags that
    become ``</mark>``; a highlight carried over runs is not done here."""
    opened, closing = False, []
    for children in runs:
        for child in children:
            if child.type != "html_inline":
                continue
            if _MARK_OPEN.match(child.content):
                if opened:
                    closing.append(child.at)
                opened = not opened
            elif _MARK_CLOSE.match(child.content):
                opened = False
        if opened:
            raise Fail
    return closing


def bold_lines(runs: list[list[Tok]]) -> list[int]:
    """``render._links_and_bold_lines``'s line breaks: the soft breaks (their place in
    the HTML pieces) that become hard ones."""
    return [child.at for children in runs for child in bold_line_breaks(children)]


def _unescape(text: str) -> str:
    """The writer's text escapes undone (it escapes these four only)."""
    if "&" not in text:
        return text
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    return text.replace("&amp;", "&")


_BLOCK_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "table",
     "thead", "tbody", "tr", "th", "td", "hr"}
)  # fmt: skip
_RUN_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "th", "td"})
_ATTR = re.compile(r' (href|src)="([^"]*)"')
AT = 1 << 20  # a place in the pieces: piece * AT + offset


_INLINE_EXACT = {
    "<strong>": "strong_open",
    "</strong>": "strong_close",
    "<em>": "em_open",
    "</em>": "em_close",
    "</a>": "link_close",
}
_BLOCK_EXACT = frozenset(f"<{slash}{tag}>" for tag in _BLOCK_TAGS for slash in ("", "/")) | {
    "<hr />"
}


class HtmlRuns:
    """The writer's HTML read back into markdown-it-py's inline tokens, run by run (its
    only raw HTML is ``<mark>``: every other tag is its own, and text is escaped).
    ``strong``, ``linked`` and ``marked``: the runs the passes and ``answer_parts`` need
    (with bold, with links or URLs, with marks)."""

    def __init__(self, pieces: list[str], spans: list[Span]) -> None:
        self.pieces = pieces
        self.spans = spans
        self.runs: list[list[Tok]] = []
        self.strong: dict[int, None] = {}
        self.linked: dict[int, None] = {}
        self.marked: dict[int, None] = {}

    def picked(self, which: dict[int, None]) -> list[list[Tok]]:
        return [self.runs[i] for i in which]

    def read(self) -> HtmlRuns:
        cur: list[Tok] | None = None
        in_pre = in_code = after_br = implicit = False
        code: list[str] = []
        runs = self.runs
        for idx, piece in enumerate(self.pieces):
            if in_pre:
                in_pre = piece != "</pre>"
                continue
            if piece[0] != "<":
                if in_code:
                    code.append(piece)
                    continue
                if cur is None:
                    if not piece.strip("\n"):
                        continue
                    cur = []
                    runs.append(cur)
                    implicit = True
                if after_br or "\n" in piece or "\ue000" in piece or "&" in piece:
                    self.text(cur, idx, piece, after_br)
                elif cur and cur[-1].type == "text":
                    cur[-1].content += piece
                else:
                    cur.append(Tok("text", piece))
                if "://" in piece:
                    self.linked[len(runs) - 1] = None
                after_br = False
                continue
            after_br = False
            kind = _INLINE_EXACT.get(piece)
            if kind is not None and cur is not None and not in_code:
                cur.append(Tok(kind))
                if kind == "strong_open":
                    self.strong[len(runs) - 1] = None
                continue
            if piece in _BLOCK_EXACT or piece.startswith(("<!--", "<ol ", "<th ", "<td ")):
                if implicit and piece in ("<pre>", "<table>") and self.pieces[idx - 1][-1] == "\n":
                    # markdown-it-py writes a fence or table right after a tight list
                    # item's text, without the newline markdown-it-pyrs puts between
                    self.pieces[idx - 1] = self.pieces[idx - 1][:-1]
                self.end(cur)
                cur = None
                implicit = False
                if piece == "<pre>":
                    in_pre = True
                elif piece[1] != "/" and piece[1:3] in (
                    "p>",
                    "h1",
                    "h2",
                    "h3",
                    "h4",
                    "h5",
                    "h6",
                    "th",
                    "td",
                ):
                    cur = []
                    runs.append(cur)
                continue
            if cur is None:  # a tight list item's text (a mark is no HTML block here)
                cur = []
                runs.append(cur)
                implicit = True
            if in_code:
                if piece != "</code>":
                    raise Fail
                content = _unescape("".join(code))
                if not content.strip(" "):
                    raise Fail  # markdown-it-pyrs strips a span of spaces only
                cur.append(Tok("code_inline", content))
                in_code, code = False, []
            elif piece == "<code>":
                in_code = True
            elif kind is not None:
                cur.append(Tok(kind))
                if kind == "strong_open":
                    self.strong[len(runs) - 1] = None
            elif piece.startswith(("<a ", "<img ")):
                attr = _ATTR.search(piece)
                if attr is None:
                    raise Fail
                url = _url(_unescape(attr.group(2)))
                if piece[1] == "a":
                    cur.append(Tok("link_open", attrs={"href": url}))
                    self.linked[len(runs) - 1] = None
                else:
                    cur.append(Tok("image"))
            elif piece == "<br />":
                cur.append(Tok("hardbreak"))
                after_br = True
            elif _MARK_TAG.fullmatch(piece) is not None:
                cur.append(Tok("html_inline", piece, at=idx * AT))
                self.marked[len(runs) - 1] = None
            else:
                raise Fail
        if in_pre or in_code:
            raise Fail
        return self

    @staticmethod
    def end(cur: list[Tok] | None) -> None:
        """A block tag ends a run; the newline before it was no soft break."""
        if cur and cur[-1].type == "softbreak":
            cur.pop()

    def text(self, cur: list[Tok], idx: int, piece: str, after_br: bool) -> None:
        offset = 0
        for n, line in enumerate(piece.split("\n")):
            if n and not (n == 1 and after_br):
                cur.append(Tok("softbreak", at=idx * AT + offset - 1))
            offset += len(line) + 1
            if not line:
                continue
            parts = INLINE_HELD.split(line) if "\ue000" in line else [line]
            for i, part in enumerate(parts):
                if i % 2:
                    span = self.spans[int(part)]
                    kind = "math_inline_double" if span.double else "math_inline"
                    cur.append(Tok(kind, span.tex))
                elif part:
                    content = _unescape(part)
                    if cur and cur[-1].type == "text":
                        cur[-1].content += content
                    else:
                        cur.append(Tok("text", content))


def _link_urls(segment: str) -> str:
    """``render._link_text`` on one escaped text segment of the HTML."""
    content = html_lib.unescape(segment)
    out: list[str] = []
    pos = 0
    for m in _BARE_URL.finditer(content):
        url = m.group().rstrip(".,;:!?")
        out.append(escapeHtml(content[pos : m.start()]))
        out.append(f'<a href="{escapeHtml(url)}">{escapeHtml(url)}</a>')
        pos = m.start() + len(url)
    out.append(escapeHtml(content[pos:]))
    return "".join(out)


def links_in_html(html: str) -> str:
    """Bare URLs in text outside links and code made links (the writer's HTML holds no raw
    HTML but ``<mark>``: every tag is its own)."""
    if "://" not in html:
        return html
    out: list[str] = []
    in_link = in_code = False
    for piece in _HTML_PIECE.findall(html):
        if piece.startswith("<"):
            if piece.startswith(("<a ", "<a>")):
                in_link = True
            elif piece == "</a>":
                in_link = False
            elif piece.startswith("<code"):
                in_code = True
            elif piece == "</code>":
                in_code = False
            out.append(piece)
        elif in_link or in_code or "://" not in piece:
            out.append(piece)
        else:
            parts = INLINE_HELD.split(piece)
            for i, part in enumerate(parts):
                if i % 2:
                    out.append(f"$\ue000{part}\ue001$")
                elif _BARE_URL.search(html_lib.unescape(part)):
                    out.append(_link_urls(part))
                else:
                    out.append(part)
    return "".join(out)
