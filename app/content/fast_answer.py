"""An answer's HTML, key terms, links and formula count from markdown-it-pyrs's own HTML
writer (Rust), equal to markdown-it-py's (``reference_answer``) or nothing.

``reference_answer`` is what the parser computes with markdown-it-py tokens
(``app.content.render``, ``app.content.answer_parts``). ``fast_answer`` gets the same
values without markdown-it-py: one ``tree()`` of the text says where formulas may be
(``app.content.math_spans`` finds them as dollarmath does) and gives the inline runs key
terms, links, ``<mark>`` state and bold lines are read from; each formula is replaced by
an opaque placeholder (``$<n>$`` with private-use characters: the same punctuation
around it for emphasis) and markdown-it-pyrs renders the text; the token passes of
``render`` are then done on that HTML, the MathML put back, and nh3 run last. Anything
it cannot vouch for returns None, and the caller renders with ``reference_answer``:
raw HTML other than ``<mark>``, link reference definitions, a ``<mark>`` carried over
paragraphs, formulas in tables or quotes or across lines of a list, labelled display
blocks, links with a formula in their paragraph, URLs markdown-it-py would encode.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from typing import Any, cast

from markdown_it.common.utils import MD_TRIM_CHARS, escapeHtml
from markdown_it.token import Token

from app.content.answer_parts import key_terms, links
from app.content.markdown import markdown_parser
from app.content.math_spans import Span, block_span, inline_spans
from app.content.render import _BARE_URL, _MARK_CLOSE, _MARK_OPEN, _mathml, render_markdown
from app.content.rs_inline import RsNode, Unsupported, _url
from app.content.rs_tokens import _quiet_stderr, _rust
from app.content.sanitize import sanitize_html
from app.content.texprep import (
    _LONE_MARK,
    _code_spans,
    _convert_delimiters,
    needs_prep,
    prepare,
)

__all__ = ["RenderedAnswer", "fast_answer", "reference_answer", "render_answer"]

MATH_TOKENS = frozenset({"math_inline", "math_inline_double", "math_block", "math_block_label"})
_TEX_OPENERS = re.compile(r"\\[(\[]")
_PRIVATE = re.compile("[\ue000-\ue003]")
_INLINE_HELD = re.compile("\\$\ue000(\\d+)\ue001\\$")
_BLOCK_HELD = re.compile("<!--\ue002(\\d+)\ue003-->\n")
_MARK_TAG = re.compile(r"<(/?)mark\s*>", re.IGNORECASE)
_HTML_PIECE = re.compile(r"<[^>]*>|[^<]+")
_CELL_STYLE = re.compile(r'<(t[hd]) style="text-align:(left|right|center)">')
_BREAKS = ("softbreak", "hardbreak")
# A list marker alone on a line: markdown-it-py and markdown-it-pyrs disagree on what it
# interrupts.
_EMPTY_ITEM = re.compile(r"^[ \t>]*(?:[-+*]|[0-9]{1,9}[.)])[ \t]*$", re.MULTILINE)
_DELIMITER_ROW = re.compile(r"^[ \t>]*[|:-][|: \t-]*$", re.MULTILINE)
_ODD_SPACE = re.compile(
    "[" + re.escape(MD_TRIM_CHARS.translate({9: None, 10: None, 32: None})) + "]"
)
_ROW = re.compile(rb"^ {0,3}\|.*\|[ \t]*$")
_ITEM_MARKER = re.compile(rb"^([-+*]|[0-9]{1,9}[.)])( *)(.*)$")
_TEXTUAL = frozenset({"text", "text_special", "softbreak", "hardbreak"})
_INLINE_NAMES = frozenset(
    {"text", "text_special", "softbreak", "hardbreak", "em", "strong", "code_inline", "link",
     "autolink", "image", "html_inline"}
)  # fmt: skip


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


class _Tok:
    """The little of a markdown-it-py token ``answer_parts`` and the passes read."""

    __slots__ = ("type", "content", "attrs", "children", "at")

    def __init__(
        self, type_: str, content: str = "", attrs: dict[str, str] | None = None, at: int = -1
    ) -> None:
        self.type = type_
        self.content = content
        self.attrs: dict[str, str] = attrs or {}
        self.children: list[_Tok] | None = None
        self.at = at  # a break's byte offset in the text


class _Fail(Exception):
    """Not sure to match markdown-it-py: the caller falls back."""


@dataclass
class _Analysis:
    """One text's formulas and inline runs: for HTML (``_leading_math``'s reading) and
    as the parser's own tokens read (``raw``)."""

    text: str
    spans: list[tuple[int, int, Span]]  # byte range in ``text``, formula (HTML reading)
    blocks: list[str]  # display blocks' TeX, by placeholder number
    runs: list[list[_Tok]]
    raw_runs: list[list[_Tok]]
    raw_count: int
    code_lines: list[tuple[int, int]] | None  # code blocks' lines, if no display block


def _unindented(raw: str, indent: int) -> tuple[str, list[int]]:
    """A list item's run as markdown-it-py's paragraph holds it: each line after the first
    without up to ``indent`` columns of spaces; and where each character was in ``raw``."""
    lines = raw.split("\n")
    kept = [lines[0]]
    where = list(range(len(lines[0]) + 1))
    at = len(lines[0]) + 1
    for line in lines[1:]:
        spaces = len(line) - len(line.lstrip(" \t"))
        if "\t" in line[:spaces]:
            raise _Fail
        cut = min(spaces, indent)
        kept.append(line[cut:])
        where.extend(range(at + cut, at + len(line) + 1))
        at += len(line) + 1
    return "\n".join(kept), where


def _events(nodes: Any, out: list[tuple[str, RsNode]]) -> None:
    for node in nodes:
        name = node.name
        if name in ("em", "strong", "link"):
            out.append((name + "_open", node))
            _events(node.children, out)
            out.append((name + "_close", node))
        else:
            out.append((name, node))


def _clean_end(data: bytes, node: RsNode) -> int:
    """A text node's end: its content where its srcmap starts (markdown-it-pyrs's end is
    off after a line break)."""
    assert node.srcmap is not None
    raw = node.meta["content"].encode()
    if not data.startswith(raw, node.srcmap[0]):
        raise _Fail
    return node.srcmap[0] + len(raw)


class _RunTokens:
    """One inline run's nodes -> tokens, the formulas splitting its text."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.out: list[_Tok] = []

    def text(self, content: str) -> None:
        if not content:
            return
        if self.out and self.out[-1].type == "text":
            self.out[-1].content += content
        else:
            self.out.append(_Tok("text", content))

    def plain(self, nodes: Any) -> None:
        """The nodes of a run without formulas."""
        out = self.out
        for node in nodes:
            name = node.name
            if name == "text" or name == "text_special":
                content = node.meta["content"]
                if out and out[-1].type == "text":
                    out[-1].content += content
                elif content:
                    out.append(_Tok("text", content))
            elif name == "em" or name == "strong":
                out.append(_Tok(name + "_open"))
                self.plain(node.children)
                out.append(_Tok(name + "_close"))
            elif name == "link":
                self.node("link_open", node)
                self.plain(node.children)
                out.append(_Tok("link_close"))
            else:
                self.node(name, node)

    def build(self, events: list[tuple[str, RsNode]], spans: list[tuple[int, int, Span]]) -> None:
        data, k, i, cur = self.data, 0, 0, -1
        while i < len(events):
            kind, node = events[i]
            assert node.srcmap is not None
            start = node.srcmap[0] if cur < 0 else cur
            if kind not in ("text", "text_special"):
                # (the srcmaps of emphasis and links are off: only leaves are checked)
                if (
                    k < len(spans)
                    and spans[k][0] < start
                    and not kind.endswith(("_open", "_close"))
                ):
                    raise _Fail  # a formula where markdown-it-pyrs saw no text
                self.node(kind, node)
                i += 1
                continue
            if k < len(spans) and spans[k][0] < start:
                raise _Fail
            end = _clean_end(data, node) if kind == "text" else node.srcmap[1]
            if k == len(spans) or spans[k][0] >= end:
                self.text(node.meta["content"] if cur < 0 else data[cur:end].decode())
                i, cur = i + 1, -1
                continue
            lo, hi, span = spans[k]
            if kind != "text":
                raise _Fail
            self.text(data[start:lo].decode())
            self.out.append(_Tok("math_inline_double" if span.double else "math_inline", span.tex))
            k += 1
            j = i
            while True:  # the node holding the closing dollar; only text in between
                kind_j, node_j = events[j]
                if kind_j not in _TEXTUAL:
                    raise _Fail
                assert node_j.srcmap is not None
                end_j = _clean_end(data, node_j) if kind_j == "text" else node_j.srcmap[1]
                if end_j >= hi:
                    break
                j += 1
                if j == len(events):
                    raise _Fail
            if kind_j != "text" or node_j.srcmap[0] >= hi:
                raise _Fail
            i, cur = j, hi
        if k != len(spans):
            raise _Fail

    def node(self, kind: str, node: RsNode) -> None:
        meta = node.meta
        if kind in _BREAKS:
            assert node.srcmap is not None
            self.out.append(_Tok(kind, at=node.srcmap[0]))
        elif kind in ("em_open", "em_close", "strong_open", "strong_close", "link_close"):
            self.out.append(_Tok(kind))
        elif kind == "link_open":
            self.out.append(_Tok(kind, attrs={"href": _url(meta["url"])}))
        elif kind == "code_inline":
            code = "".join(c.meta["content"] for c in node.children)
            if not code.strip(" "):
                raise _Fail  # markdown-it-pyrs strips a span of spaces only
            self.out.append(_Tok(kind, code))
        elif kind == "html_inline":
            content = meta["content"]
            if not (_MARK_OPEN.match(content) or _MARK_CLOSE.match(content)):
                raise _Fail  # raw HTML: its text and tags would read as the writer's own
            self.out.append(_Tok(kind, content))
        elif kind == "autolink":
            url = _url(meta["url"])
            shown = "".join(c.meta.get("content", "") for c in node.children)
            if not url.startswith(("http://", "https://")) or not shown or "%" in shown:
                raise _Fail
            self.out.append(_Tok("link_open", attrs={"href": url}))
            self.text(shown)
            self.out.append(_Tok("link_close"))
        elif kind == "image":
            _url(meta["url"])
            self.out.append(_Tok(kind))
        else:
            raise _Fail


class _Walk:
    """The block nodes of one text: inline runs, their formulas, display blocks."""

    def __init__(self, text: str, data: bytes, line_starts: list[int]) -> None:
        self.text, self.data, self.line_starts = text, data, line_starts
        self.spans: list[tuple[int, int, Span]] = []
        self.runs: list[list[_Tok]] = []
        self.raw_runs: list[list[_Tok]] = []
        self.raw_count = 0
        self.block: tuple[int, int, str] | None = None  # the first display block found
        self.delimiter_rows: set[int] = set()
        self.code_lines: list[tuple[int, int]] = []
        self.odd_space = _ODD_SPACE.search(text) is not None  # where tables' delimiter rows start

    def blocks(self, nodes: Any, top: bool, quoted: bool, item: RsNode | None = None) -> None:
        for node in nodes:
            if self.block is not None:
                return
            name = node.name
            if name in ("paragraph", "heading", "lheading"):
                lo, hi = self.region(node)
                self.run(node.children, lo, hi, top, quoted, item, False, name != "heading")
            elif name == "blockquote":
                if not node.children:
                    raise _Fail  # markdown-it-pyrs writes an empty one differently
                self.blocks(node.children, False, True)
            elif name in ("bullet_list", "ordered_list"):
                for item in node.children:
                    self.item(item, quoted)
            elif name == "table":
                assert node.srcmap is not None
                rows = self.source(node).rstrip(b"\n").split(b"\n")
                if len(rows) > 1:
                    self.delimiter_rows.add(
                        len(self.data[: node.srcmap[0] + len(rows[0]) + 1].decode())
                    )
                after = self.data[node.srcmap[1] :].removeprefix(b"\n").split(b"\n", 1)[0]
                if b"$" in self.source(node) or not all(_ROW.match(r) for r in rows):
                    raise _Fail  # markdown-it-py ends a table at other lines than Rust
                if after.strip(b" \t"):
                    raise _Fail
                for part in node.children:
                    for row in part.children:
                        for cell in row.children:
                            assert cell.srcmap is not None
                            lo, hi = cell.srcmap
                            self.run(cell.children, lo, hi, False, True, None, False, False)
            elif name == "html_block":
                if not _BLOCK_HELD.fullmatch(node.meta["content"]):
                    raise _Fail
            elif name == "fence":
                self.fence(node)
                self.code(node)
            elif name == "code_block":
                self.code(node)
            elif name != "hr":
                raise _Fail

    def code(self, node: RsNode) -> None:
        """A code block's lines, as markdown-it-py's ``map`` has them."""
        assert node.srcmap is not None
        lo, hi = node.srcmap
        first = self.data.count(b"\n", 0, lo)
        self.code_lines.append((first, first + self.data.count(b"\n", lo, max(lo, hi - 1)) + 1))

    def fence(self, node: RsNode) -> None:
        """markdown-it-pyrs ends an unclosed fence at the end of a text without a final
        newline with one; markdown-it-py does not."""
        assert node.srcmap is not None
        if node.srcmap[1] < len(self.data) or self.data.endswith(b"\n"):
            return
        markup = node.meta["marker"] * node.meta["marker_len"]
        closing = self.source(node).rsplit(b"\n", 1)[-1].strip().decode()
        if len(closing) < len(markup) or closing.strip(node.meta["marker"]):
            raise _Fail

    def source(self, node: RsNode) -> bytes:
        assert node.srcmap is not None
        return self.data[node.srcmap[0] : node.srcmap[1]]

    def item_indent(self, item: RsNode) -> tuple[int, int]:
        """The column a list item's content starts at (markdown-it-py's ``blkIndent``),
        and the byte its first line's content starts at."""
        assert item.srcmap is not None
        start = item.srcmap[0]
        line_start = self.data.rfind(b"\n", 0, start) + 1
        prefix = self.data[line_start:start]
        line_end = self.data.find(b"\n", start)
        marker = _ITEM_MARKER.match(self.data[start : len(self.data) if line_end < 0 else line_end])
        if marker is None or not prefix.isascii() or b"\t" in prefix:
            raise _Fail
        width = len(prefix) + len(marker.group(1))
        spaces = len(marker.group(2))
        after = start + len(marker.group(1))
        if not marker.group(3) or spaces > 4:
            return width + 1, after + min(spaces, 1)
        if spaces == 0:
            raise _Fail
        return width + spaces, after + spaces

    def item(self, item: RsNode, quoted: bool) -> None:
        """A list item: its runs of inline nodes (a tight list's hidden paragraphs), from
        where the last block before them ends, and its blocks."""
        if item.name != "list_item":
            raise _Fail
        assert item.srcmap is not None
        lo = item.srcmap[0]
        run: list[RsNode] = []
        first = True
        for child in [*item.children, None]:
            if child is not None and child.name in _INLINE_NAMES:
                run.append(child)
                continue
            if child is not None:
                assert child.srcmap is not None
            hi = item.srcmap[1] if child is None else child.srcmap[0]  # type: ignore[index]
            if run:
                self.run(run, lo, max(lo, hi), False, quoted, item, first, True)
                run = []
            first = False
            if child is not None:
                self.blocks([child], False, quoted, item)
                lo = child.srcmap[1]  # type: ignore[index]

    def region(self, node: RsNode) -> tuple[int, int]:
        """The bytes of a block's inline content, as markdown-it-py cuts it (before the
        trimming)."""
        assert node.srcmap is not None
        lo, hi = node.srcmap
        if node.name == "lheading":
            hi = max(lo, self.data.rfind(b"\n", lo, hi))
        elif node.name == "heading":
            end = self.data.find(b"\n", lo, hi)
            line = self.data[lo : hi if end < 0 else end]
            start = len(line) - len(line.lstrip(b" \t"))
            pos = start + len(line[start:]) - len(line[start:].lstrip(b"#"))
            stop = len(line.rstrip(b" \t"))
            back = len(line[:stop].rstrip(b"#"))
            if back > pos and line[back - 1 : back] in (b" ", b"\t"):
                stop = back
            return lo + pos, lo + max(pos, stop)
        return lo, hi

    def run(
        self,
        nodes: Any,
        lo: int,
        hi: int,
        top: bool,
        quoted: bool,
        item: RsNode | None,
        first: bool,
        paragraph: bool,
    ) -> None:
        """One inline run, its source ``data[lo:hi]`` (markdown-it-py's inline content
        once its lines lose their indentation and its ends are trimmed; a list item's
        first run starts at its marker until it is needed exactly)."""
        if not nodes:
            self.runs.append([])
            self.raw_runs.append([])
            return
        region = self.data[lo:hi]
        if b"$" not in region and not self.odd_space:
            out = _RunTokens(self.data)
            out.plain(nodes)
            self.runs.append(out.out)
            self.raw_runs.append(out.out)
            return
        indent = 0
        if item is not None:
            indent, start = self.item_indent(item)
            if first:
                lo = start
                region = self.data[lo:hi]
        if self.odd_space:
            edges = region.decode()
            if edges.strip(MD_TRIM_CHARS) != edges.strip(" \t\n"):
                raise _Fail  # markdown-it-py trims more kinds of space than Rust
        events: list[tuple[str, RsNode]] = []
        _events(nodes, events)
        if b"$" not in region:
            builder = _RunTokens(self.data)
            builder.build(events, [])
            self.runs.append(builder.out)
            self.raw_runs.append(builder.out)
            return
        if quoted:
            raise _Fail
        raw = region.decode()
        joined, where = (raw, None) if top else _unindented(raw, indent)
        content = joined.strip(MD_TRIM_CHARS)
        lead = len(joined) - len(joined.lstrip(MD_TRIM_CHARS))
        if content.startswith("$$") and paragraph:
            if not top:
                raise _Fail  # the block rule may start a display block in the list
            if self.display(lo):
                return
        raw_spans = inline_spans(content)
        spans = raw_spans
        if content.startswith("$") and (content[-1].isdigit() or content[-1] == "\\"):
            spans = [
                Span(s.start - 1, s.end - 1, s.double, s.tex) for s in inline_spans(" " + content)
            ]
        if (raw_spans or spans) and "](" in content:
            raise _Fail  # a link's destination or text may hold the dollars
        for s in spans:
            if "\n" in content[s.start : s.end]:
                after = content.find("\n", s.end)
                next_line = content[after + 1 :].split("\n", 1)[0] if after != -1 else ""
                if "|" in next_line:
                    raise _Fail  # one line less might make a table
        self.raw_count += len(raw_spans)

        def located(found: list[Span]) -> list[tuple[int, int, Span]]:
            out = []
            for s in found:
                first, last = lead + s.start, lead + s.end - 1
                if where is not None:
                    first, last = where[first], where[last]
                start = lo + len(raw[:first].encode())
                out.append((start, lo + len(raw[: last + 1].encode()), s))
            return out

        html_spans = located(spans)
        builder = _RunTokens(self.data)
        builder.build(events, html_spans)
        self.runs.append(builder.out)
        self.spans.extend(html_spans)
        if raw_spans == spans:
            self.raw_runs.append(builder.out)
        else:
            raw_builder = _RunTokens(self.data)
            raw_builder.build(events, located(raw_spans))
            self.raw_runs.append(raw_builder.out)

    def display(self, lo: int) -> bool:
        """A top-level paragraph starting with ``$$``: a display block as the block rule
        reads it (noted in ``self.block``: the text is held and walked again), or not."""
        line = self.data.count(b"\n", 0, lo)
        lines = self.text.split("\n")
        if line > 0 and lines[line - 1].strip(" \t"):
            raise _Fail  # after a heading, fence, table, ...: not sure it starts a block
        found = block_span(lines, line)
        if found is None:
            return False
        if found.label is not None:
            raise _Fail
        end = self.line_starts[found.last + 1] if found.last + 1 < len(self.line_starts) else -1
        self.block = (self.line_starts[line], end, found.tex)
        return True


def _analyse(text: str, split_parse: bool = False) -> _Analysis:
    """Formulas and runs of ``text``; display blocks are held out first, one at a time."""
    blocks: list[str] = []
    while True:
        data = text.encode()
        line_starts = [0] + [m.end() for m in re.finditer(b"\n", data)]
        walk = _Walk(text, data, line_starts)
        root = _tree(text)
        if any(n.name == "definition" for n in root.children):
            raise _Fail
        if split_parse and not blocks and any(walk.source(n).count(b"$$") % 2 for n in root.children):
            # render_markdown tokenizes a prepared text with rs_tokens, which parses
            # ``$$`` blocks piecewise with markdown-it-py: the same only when each block
            # holds its own
            raise _Fail
        walk.blocks(root.children, True, False)
        rows = {
            m.start()
            for m in _DELIMITER_ROW.finditer(text)
            if "|" in m.group() and "-" in m.group()
        }
        if rows - walk.delimiter_rows:
            raise _Fail  # markdown-it-py may read a table where markdown-it-pyrs did not
        if walk.block is None:
            break
        start, end, tex = walk.block
        held = f"<!--\ue002{len(blocks)}\ue003-->" + ("\n" if end >= 0 else "")
        blocks.append(tex)
        text = data[:start].decode() + held + (data[end:].decode() if end >= 0 else "")
        if len(blocks) > 50:
            raise _Fail
    return _Analysis(
        text,
        walk.spans,
        blocks,
        walk.runs,
        walk.raw_runs,
        walk.raw_count + len(blocks),
        None if blocks else walk.code_lines,
    )


def _tree(text: str) -> RsNode:
    rust = _rust()
    try:
        with _quiet_stderr():
            tree: RsNode = rust.tree(text)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # pyo3's PanicException derives from BaseException only
        raise _Fail from exc
    return tree


def _render(text: str) -> str:
    rust = _rust()
    try:
        with _quiet_stderr():
            html: str = rust.render(text)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        raise _Fail from exc
    return html


def _marks(runs: list[list[_Tok]]) -> set[int]:
    """``render._carry_marks`` on the runs: which ``<mark>`` tags (by order) become
    ``</mark>``; a highlight carried over runs is not done here."""
    opened, order, closing = False, 0, set()
    for children in runs:
        for child in children:
            if child.type != "html_inline":
                continue
            if _MARK_OPEN.match(child.content):
                if opened:
                    closing.add(order)
                opened = not opened
            elif _MARK_CLOSE.match(child.content):
                opened = False
            order += 1
        if opened:
            raise _Fail
    return closing


def _bold_lines(runs: list[list[_Tok]]) -> list[int]:
    """``render._links_and_bold_lines``'s line breaks: the byte offsets of the soft breaks
    that become hard ones."""
    out = []
    for children in runs:
        seen = [c for c in children if c.type != "text" or c.content.strip()]
        for i, child in enumerate(seen[:-1]):
            if child.type == "softbreak" and seen[i + 1].type == "strong_open":
                rest = seen[i + 1 :]
                end = next((k for k, c in enumerate(rest) if c.type == "strong_close"), None)
                after = rest[end + 1] if end is not None and end + 1 < len(rest) else None
                if end is not None and (after is None or after.type in _BREAKS):
                    out.append(child.at)
    return out


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


def _links_in_html(html: str) -> str:
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
            parts = _INLINE_HELD.split(piece)
            for i, part in enumerate(parts):
                if i % 2:
                    out.append(f"$\ue000{part}\ue001$")
                elif _BARE_URL.search(html_lib.unescape(part)):
                    out.append(_link_urls(part))
                else:
                    out.append(part)
    return "".join(out)


def _apply(data: bytes, edits: list[tuple[int, int, str]]) -> str:
    out: list[bytes] = []
    pos = 0
    for start, end, new in sorted(edits):
        if start < pos:
            raise _Fail
        out.append(data[pos:start])
        out.append(new.encode())
        pos = end
    out.append(data[pos:])
    return b"".join(out).decode()


def _html(found: _Analysis) -> str:
    data = found.text.encode()
    tex = [span.tex for _, _, span in found.spans]
    edits = [(start, end, f"$\ue000{n}\ue001$") for n, (start, end, span) in enumerate(found.spans)]
    edits.extend((at, at, "  ") for at in _bold_lines(found.runs))
    closing = _marks(found.runs)
    html = _render(_apply(data, edits))
    if closing:
        tags = iter(range(10**9))
        html = _MARK_TAG.sub(lambda m: "</mark>" if next(tags) in closing else m.group(), html)
    html = _links_in_html(html)
    if "<table>" in html:
        html = html.replace("<table>", '<div class="table-wrap"><table>')
        html = html.replace("</table>\n", "</table></div>\n")
        html = _CELL_STYLE.sub(r'<\1 align="\2">', html)
    doubles = [span.double for _, _, span in found.spans]
    html = _INLINE_HELD.sub(
        lambda m: _mathml(tex[int(m.group(1))].strip(), doubles[int(m.group(1))]), html
    )
    html = _BLOCK_HELD.sub(
        lambda m: _mathml(found.blocks[int(m.group(1))].strip(), True) + "\n", html
    )
    return sanitize_html(html)


def _prepare(text: str, found: _Analysis) -> str:
    """``texprep.prepare(text, block=True)`` with the code blocks of the Rust tree, not
    markdown-it-py's block parse (most of its time), where they are sure to agree: no
    ``$$`` that could be a display block swallowing a fence."""
    if found.code_lines is None or "$$" in text:
        return prepare(text, block=True)
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)] + [len(text) + 1]
    blocks = [(line_starts[a], min(line_starts[b], len(text))) for a, b in found.code_lines]
    regions: list[tuple[int, int]] = []
    pos = 0
    for lo, hi in [*blocks, (len(text), len(text))]:
        regions.extend(_code_spans(text, pos, lo))
        if hi > lo:
            regions.append((lo, hi))
        pos = max(pos, hi)
    out: list[str] = []
    pos = 0
    for lo, hi in [*regions, (len(text), len(text))]:
        segment = _LONE_MARK.sub(r"\1", text[pos:lo])
        out.append(_convert_delimiters(segment) + text[lo:hi])
        pos = hi
    return "".join(out)


def fast_answer(answer_md: str) -> RenderedAnswer | None:
    """``reference_answer(answer_md)``'s values from markdown-it-pyrs, or None where they
    might differ (module docstring)."""
    if _rust() is None or _PRIVATE.search(answer_md) or "\0" in answer_md or "\r" in answer_md:
        return None
    if _EMPTY_ITEM.search(answer_md):
        return None
    try:
        raw = _analyse(answer_md)
        # render_markdown reads a text needing step 1 with rs_tokens (see _analyse)
        prep = needs_prep(answer_md)
        for_html = _analyse(_prepare(answer_md, raw), split_parse=True) if prep else raw
        html = _html(for_html)
    except (_Fail, Unsupported):
        return None
    runs = [cast(Token, _inline(children)) for children in raw.raw_runs]
    count = raw.raw_count + len(_TEX_OPENERS.findall(answer_md))
    return RenderedAnswer(html, key_terms(runs), links(runs), count)


def _inline(children: list[_Tok]) -> _Tok:
    tok = _Tok("inline")
    tok.children = children
    return tok
