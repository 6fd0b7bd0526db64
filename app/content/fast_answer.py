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
# What ``_analyse`` needs the tree for: formulas, tables, code that may end the text,
# raw HTML (a <mark> alone on its line is an HTML block), link reference definitions,
# spaces markdown-it-py trims and Rust keeps.
_NEEDS_TREE = re.compile(
    r"[$|]|```|~~~|<(?!/?mark\s*>)[A-Za-z/!?]|^[ \t>]*\[[^\]\n]*\]:|</?mark\s*\n"
    r"|^[ \t>]*(?:(?:[-+*]|[0-9]{1,9}[.)])[ \t]+)*</?mark\s*>[ \t]*$|["
    + re.escape(MD_TRIM_CHARS.translate({9: None, 10: None, 32: None}))
    + "]",
    re.MULTILINE | re.IGNORECASE,
)
_SUSPECT_HTML = re.compile(r"<(?!/?mark\s*>)[A-Za-z/!?]", re.IGNORECASE)
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
    """One text's formulas: for HTML (``_leading_math``'s reading) and as the parser's
    own tokens read them (``raw``)."""

    text: str
    spans: list[tuple[int, int, Span]]  # byte range in ``text``, formula (HTML reading)
    raw_spans: list[tuple[int, int, Span]]  # the same, as the parser's tokens read them
    blocks: list[str]  # display blocks' TeX, by placeholder number
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
        self.raw_spans: list[tuple[int, int, Span]] = []
        # raw HTML other than <mark> may be in the text: every run's nodes are checked
        self.check_inline = _SUSPECT_HTML.search(text) is not None
        self.block: tuple[int, int, str] | None = None  # the first display block found
        self.delimiter_rows: set[int] = set()
        self.code_lines: list[tuple[int, int]] = []
        self.want_code = needs_prep(text)
        self.odd_space = _ODD_SPACE.search(text) is not None  # where tables' delimiter rows start

    def blocks(self, nodes: Any, top: bool, quoted: bool, item: RsNode | None = None) -> None:
        for node in nodes:
            if self.block is not None:
                return
            name = node.name
            if name in ("paragraph", "heading", "lheading"):
                lo, hi = self.region(node)
                self.run(node.children, lo, hi, top, quoted, item, False, name != "heading")
            elif name in ("blockquote", "bullet_list", "ordered_list") and self.skippable(node):
                continue
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

    def skippable(self, node: RsNode) -> bool:
        """A list or quote with nothing to find in it: no formula, no raw HTML to check,
        no code lines wanted (step 1), not at the end of a text without a final newline
        (a fence left open there); a table in it is refused (``_DELIMITER_ROW``)."""
        assert node.srcmap is not None
        if self.check_inline or self.odd_space or self.want_code or b"$" in self.source(node):
            return False
        return node.srcmap[1] < len(self.data) or self.data.endswith(b"\n")

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
            return
        region = self.data[lo:hi]
        if b"$" not in region and not self.odd_space:
            if self.check_inline:
                _RunTokens(self.data).plain(nodes)
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
        if b"$" not in region:
            if self.check_inline:
                _RunTokens(self.data).plain(nodes)
            return
        events: list[tuple[str, RsNode]] = []
        _events(nodes, events)
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
        _RunTokens(self.data).build(events, html_spans)
        self.spans.extend(html_spans)
        if raw_spans == spans:
            self.raw_spans.extend(html_spans)
        else:
            raw_located = located(raw_spans)
            _RunTokens(self.data).build(events, raw_located)
            self.raw_spans.extend(raw_located)

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


def _needs_tree(text: str) -> bool:
    if "$" in text or "|" in text or "```" in text or "~~~" in text or needs_prep(text):
        return True
    if "<" in text and _SUSPECT_HTML.search(text):
        return True
    return _NEEDS_TREE.search(text) is not None


def _analyse(text: str, split_parse: bool = False) -> _Analysis:
    """Formulas of ``text``; display blocks are held out first, one at a time. A text
    with none of what the tree is needed for is not parsed here at all."""
    blocks: list[str] = []
    if not split_parse and not _needs_tree(text):
        return _Analysis(text, [], [], [], [])
    while True:
        data = text.encode()
        line_starts = [0] + [m.end() for m in re.finditer(b"\n", data)]
        walk = _Walk(text, data, line_starts)
        root = _tree(text)
        if any(n.name == "definition" for n in root.children):
            raise _Fail
        if (
            split_parse
            and not blocks
            and any(walk.source(n).count(b"$$") % 2 for n in root.children)
        ):
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
        if split_parse:
            raise _Fail  # a display block may end a block rs_tokens parses on its own
        start, end, tex = walk.block
        held = f"<!--\ue002{len(blocks)}\ue003-->" + ("\n" if end >= 0 else "")
        blocks.append(tex)
        text = data[:start].decode() + held + (data[end:].decode() if end >= 0 else "")
        if len(blocks) > 50:
            raise _Fail
    return _Analysis(text, walk.spans, walk.raw_spans, blocks, None if blocks else walk.code_lines)


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


def _marks(runs: list[list[_Tok]]) -> list[int]:
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
            raise _Fail
    return closing


def _bold_lines(runs: list[list[_Tok]]) -> list[int]:
    """``render._links_and_bold_lines``'s line breaks: the soft breaks (their place in
    the HTML pieces) that become hard ones."""
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
_AT = 1 << 20  # a place in the pieces: piece * _AT + offset


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


class _HtmlRuns:
    """The writer's HTML read back into markdown-it-py's inline tokens, run by run (its
    only raw HTML is ``<mark>``: every other tag is its own, and text is escaped).
    ``strong``, ``linked`` and ``marked``: the runs the passes and ``answer_parts`` need
    (with bold, with links or URLs, with marks)."""

    def __init__(self, pieces: list[str], spans: list[Span]) -> None:
        self.pieces = pieces
        self.spans = spans
        self.runs: list[list[_Tok]] = []
        self.strong: dict[int, None] = {}
        self.linked: dict[int, None] = {}
        self.marked: dict[int, None] = {}

    def picked(self, which: dict[int, None]) -> list[list[_Tok]]:
        return [self.runs[i] for i in which]

    def read(self) -> _HtmlRuns:
        cur: list[_Tok] | None = None
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
                    cur.append(_Tok("text", piece))
                if "://" in piece:
                    self.linked[len(runs) - 1] = None
                after_br = False
                continue
            after_br = False
            kind = _INLINE_EXACT.get(piece)
            if kind is not None and cur is not None and not in_code:
                cur.append(_Tok(kind))
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
                    raise _Fail
                content = _unescape("".join(code))
                if not content.strip(" "):
                    raise _Fail  # markdown-it-pyrs strips a span of spaces only
                cur.append(_Tok("code_inline", content))
                in_code, code = False, []
            elif piece == "<code>":
                in_code = True
            elif kind is not None:
                cur.append(_Tok(kind))
                if kind == "strong_open":
                    self.strong[len(runs) - 1] = None
            elif piece.startswith(("<a ", "<img ")):
                attr = _ATTR.search(piece)
                if attr is None:
                    raise _Fail
                url = _url(_unescape(attr.group(2)))
                if piece[1] == "a":
                    cur.append(_Tok("link_open", attrs={"href": url}))
                    self.linked[len(runs) - 1] = None
                else:
                    cur.append(_Tok("image"))
            elif piece == "<br />":
                cur.append(_Tok("hardbreak"))
                after_br = True
            elif _MARK_TAG.fullmatch(piece) is not None:
                cur.append(_Tok("html_inline", piece, at=idx * _AT))
                self.marked[len(runs) - 1] = None
            else:
                raise _Fail
        if in_pre or in_code:
            raise _Fail
        return self

    @staticmethod
    def end(cur: list[_Tok] | None) -> None:
        """A block tag ends a run; the newline before it was no soft break."""
        if cur and cur[-1].type == "softbreak":
            cur.pop()

    def text(self, cur: list[_Tok], idx: int, piece: str, after_br: bool) -> None:
        offset = 0
        for n, line in enumerate(piece.split("\n")):
            if n and not (n == 1 and after_br):
                cur.append(_Tok("softbreak", at=idx * _AT + offset - 1))
            offset += len(line) + 1
            if not line:
                continue
            parts = _INLINE_HELD.split(line) if "\ue000" in line else [line]
            for i, part in enumerate(parts):
                if i % 2:
                    span = self.spans[int(part)]
                    kind = "math_inline_double" if span.double else "math_inline"
                    cur.append(_Tok(kind, span.tex))
                elif part:
                    content = _unescape(part)
                    if cur and cur[-1].type == "text":
                        cur[-1].content += content
                    else:
                        cur.append(_Tok("text", content))


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


def _held(found: _Analysis, raw: bool) -> str:
    """The text with its formulas held out: ``$`` + private-use characters + ``$``."""
    spans = found.raw_spans if raw else found.spans
    edits = [(start, end, f"$\ue000{n}\ue001$") for n, (start, end, _) in enumerate(spans)]
    return _apply(found.text.encode(), edits)


def _pieces(html: str) -> list[str]:
    if "<blockquote>\n</blockquote>" in html:
        raise _Fail  # markdown-it-py writes an empty quote on one line
    return _HTML_PIECE.findall(html)


def _html(found: _Analysis) -> tuple[str, _HtmlRuns]:
    """The answer's HTML, and its runs' tokens as the passes saw them (before them)."""
    pieces = _pieces(_render(_held(found, raw=False)))
    spans = [span for _, _, span in found.spans]
    runs = _HtmlRuns(pieces, spans).read()
    for at in _marks(runs.picked(runs.marked)):
        pieces[at // _AT] = "</mark>"
    for at in sorted(_bold_lines(runs.picked(runs.strong)), reverse=True):
        idx, offset = divmod(at, _AT)
        pieces[idx] = pieces[idx][:offset] + "<br />" + pieces[idx][offset:]
    html = _links_in_html("".join(pieces))
    if "<table>" in html:
        html = html.replace("<table>", '<div class="table-wrap"><table>')
        html = html.replace("</table>\n", "</table></div>\n")
        html = _CELL_STYLE.sub(r'<\1 align="\2">', html)
    if spans:
        html = _INLINE_HELD.sub(
            lambda m: _mathml(spans[int(m.group(1))].tex.strip(), spans[int(m.group(1))].double),
            html,
        )
    if found.blocks:
        blocks = found.blocks
        html = _BLOCK_HELD.sub(
            lambda m: _mathml(blocks[int(m.group(1))].strip(), True) + "\n", html
        )
    return sanitize_html(html), runs


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
        html, runs = _html(for_html)
        if prep or raw.raw_spans != raw.spans:
            pieces = _pieces(_render(_held(raw, raw=True)))
            runs = _HtmlRuns(pieces, [span for _, _, span in raw.raw_spans]).read()
    except (_Fail, Unsupported):
        return None
    strong = [cast(Token, _inline(children)) for children in runs.picked(runs.strong)]
    linked = [cast(Token, _inline(children)) for children in runs.picked(runs.linked)]
    count = len(raw.raw_spans) + len(raw.blocks) + len(_TEX_OPENERS.findall(answer_md))
    return RenderedAnswer(html, key_terms(strong), links(linked), count)


def _inline(children: list[_Tok]) -> _Tok:
    tok = _Tok("inline")
    tok.children = children
    return tok
