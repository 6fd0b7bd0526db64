"""The tree side of ``app.content.fast_answer``: one ``tree()`` of markdown-it-pyrs says
where formulas may be (``app.content.math_spans`` finds them in each inline run as
markdown-it-py holds it) and whether the text is one the fast path can vouch for."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markdown_it.common.utils import MD_TRIM_CHARS

from app.content.fast_checks import (
    DELIMITER_ROW,
    LONE_MARK_LINE,
    ODD_SPACE,
    SUSPECT_HTML,
    needs_tree,
)
from app.content.fast_html import BLOCK_HELD, Fail
from app.content.fast_inline import Check, events, unindented
from app.content.math_spans import Span, block_span, inline_spans
from app.content.rs_inline import RsNode
from app.content.rs_parser import rust_tree

__all__ = ["Analysis", "analyse"]

_BREAKS = ("softbreak", "hardbreak")
_INDENTED_LAZY = re.compile(rb"\n(?! {0,3}>)[ \t]")
_FENCE_LINE = re.compile(r"^[ \t]*(?:```|~~~)", re.MULTILINE)
_ROW = re.compile(rb"^ {0,3}\|.*\|[ \t]*$")
_ITEM_MARKER = re.compile(rb"^([-+*]|[0-9]{1,9}[.)])( *)(.*)$")
_INLINE_NAMES = frozenset(
    {"text", "text_special", "softbreak", "hardbreak", "em", "strong", "code_inline", "link",
     "autolink", "image", "html_inline"}
)  # fmt: skip


@dataclass
class Analysis:
    """One text's formulas: for HTML (``_leading_math``'s reading) and as the parser's
    own tokens read them (``raw``)."""

    text: str
    spans: list[tuple[int, int, Span]]  # byte range in ``text``, formula (HTML reading)
    raw_spans: list[tuple[int, int, Span]]  # the same, as the parser's tokens read them
    blocks: list[str]  # display blocks' TeX, by placeholder number
    code_lines: list[tuple[int, int]] | None  # code blocks' lines, if no display block


class _Walk:
    """The block nodes of one text: inline runs, their formulas, display blocks."""

    def __init__(self, text: str, data: bytes, line_starts: list[int], want_code: bool) -> None:
        self.text, self.data, self.line_starts = text, data, line_starts
        self.spans: list[tuple[int, int, Span]] = []
        self.raw_spans: list[tuple[int, int, Span]] = []
        # raw HTML other than <mark> may be in the text: every run's nodes are checked
        self.check_inline = SUSPECT_HTML.search(text) is not None
        self.block: tuple[int, int, str] | None = None  # the first display block found
        self.delimiter_rows: set[int] = set()
        self.code_lines: list[tuple[int, int]] = []
        self.want_code = want_code  # step 1 will want the code blocks' lines
        self.lone_marks = LONE_MARK_LINE.search(text) is not None
        self.odd_space = ODD_SPACE.search(text) is not None  # where tables' delimiter rows start

    def blocks(self, nodes: Any, top: bool, quoted: bool, item: RsNode | None = None) -> None:
        for node in nodes:
            if self.block is not None:
                return
            name = node.name
            if name in ("paragraph", "heading", "lheading"):
                lo, hi = self.region(node)
                self.run(node.children, lo, hi, top, quoted, item, False, name != "heading")
            elif name == "blockquote" and _INDENTED_LAZY.search(self.source(node)):
                raise Fail  # markdown-it-py keeps a lazy line's indentation (in code)
            elif name in ("blockquote", "bullet_list", "ordered_list") and self.skippable(node):
                continue
            elif name == "blockquote":
                if not node.children:
                    raise Fail  # markdown-it-pyrs writes an empty one differently
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
                    raise Fail  # markdown-it-py ends a table at other lines than Rust
                if after.strip(b" \t"):
                    raise Fail
                for part in node.children:
                    for row in part.children:
                        for cell in row.children:
                            assert cell.srcmap is not None
                            lo, hi = cell.srcmap
                            self.run(cell.children, lo, hi, False, True, None, False, False)
            elif name == "html_block":
                if not BLOCK_HELD.fullmatch(node.meta["content"]):
                    raise Fail
            elif name == "fence":
                self.fence(node)
                self.code(node)
            elif name == "code_block":
                self.code(node)
            elif name != "hr":
                raise Fail

    def skippable(self, node: RsNode) -> bool:
        """A list or quote with nothing to find in it: no formula, no raw HTML to check,
        no code lines wanted (step 1), not at the end of a text without a final newline
        (a fence left open there); a table in it is refused (``DELIMITER_ROW``)."""
        assert node.srcmap is not None
        if self.check_inline or self.odd_space or self.want_code or self.lone_marks:
            return False
        if b"$" in self.source(node):
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
        lines = self.source(node).split(b"\n")
        last = lines[-1].decode()
        closing = last.lstrip(" ")
        if len(lines) < 2 or len(last) - len(closing) > 3 or "\t" in last:
            raise Fail  # maybe no closing line (indented four, it is content)
        closing = closing.rstrip(" \t")
        if len(closing) < len(markup) or closing.strip(node.meta["marker"]):
            raise Fail

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
            raise Fail
        width = len(prefix) + len(marker.group(1))
        spaces = len(marker.group(2))
        after = start + len(marker.group(1))
        if not marker.group(3) or spaces > 4:
            return width + 1, after + min(spaces, 1)
        if spaces == 0:
            raise Fail
        return width + spaces, after + spaces

    def item(self, item: RsNode, quoted: bool) -> None:
        """A list item: its runs of inline nodes (a tight list's hidden paragraphs), from
        where the last block before them ends, and its blocks."""
        if item.name != "list_item":
            raise Fail
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
                Check(self.data).plain(nodes)
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
                raise Fail  # markdown-it-py trims more kinds of space than Rust
        if b"$" not in region:
            if self.check_inline:
                Check(self.data).plain(nodes)
            return
        flat: list[tuple[str, RsNode]] = []
        events(nodes, flat)
        if quoted:
            raise Fail
        raw = region.decode()
        joined, where = (raw, None) if top else unindented(raw, indent)
        content = joined.strip(MD_TRIM_CHARS)
        lead = len(joined) - len(joined.lstrip(MD_TRIM_CHARS))
        if content.startswith("$$") and paragraph:
            if not top:
                raise Fail  # the block rule may start a display block in the list
            if self.display(lo):
                return
        raw_spans = inline_spans(content)
        spans = raw_spans
        if content.startswith("$") and (content[-1].isdigit() or content[-1] == "\\"):
            spans = [
                Span(s.start - 1, s.end - 1, s.double, s.tex) for s in inline_spans(" " + content)
            ]
        if (raw_spans or spans) and "](" in content:
            raise Fail  # a link's destination or text may hold the dollars
        if (raw_spans or spans) and _FENCE_LINE.search(content):
            raise Fail  # held out, a formula's backtick may no longer keep a fence away
        for s in spans:
            if "\n" in content[s.start : s.end]:
                after = content.find("\n", s.end)
                next_line = content[after + 1 :].split("\n", 1)[0] if after != -1 else ""
                if "|" in next_line:
                    raise Fail  # one line less might make a table

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
        Check(self.data).spans(flat, html_spans)
        self.spans.extend(html_spans)
        if raw_spans == spans:
            self.raw_spans.extend(html_spans)
        else:
            raw_located = located(raw_spans)
            Check(self.data).spans(flat, raw_located)
            self.raw_spans.extend(raw_located)

    def display(self, lo: int) -> bool:
        """A top-level paragraph starting with ``$$``: a display block as the block rule
        reads it (noted in ``self.block``: the text is held and walked again), or not."""
        line = self.data.count(b"\n", 0, lo)
        lines = self.text.split("\n")
        if line > 0 and lines[line - 1].strip(" \t"):
            raise Fail  # after a heading, fence, table, ...: not sure it starts a block
        found = block_span(lines, line)
        if found is None:
            return False
        if found.label is not None:
            raise Fail
        end = self.line_starts[found.last + 1] if found.last + 1 < len(self.line_starts) else -1
        self.block = (self.line_starts[line], end, found.tex)
        return True


def analyse(text: str, split_parse: bool = False, want_code: bool = False) -> Analysis:
    """Formulas of ``text``; display blocks are held out first, one at a time. A text
    with none of what the tree is needed for is not parsed here at all. ``want_code``:
    note the code blocks' lines (for step 1)."""
    blocks: list[str] = []
    if not split_parse and not needs_tree(text):
        return Analysis(text, [], [], [], [])
    while True:
        data = text.encode()
        line_starts = [0] + [m.end() for m in re.finditer(b"\n", data)]
        walk = _Walk(text, data, line_starts, want_code)
        root = _tree(text)
        if any(n.name == "definition" for n in root.children):
            raise Fail
        if (
            split_parse
            and not blocks
            and any(walk.source(n).count(b"$$") % 2 for n in root.children)
        ):
            # render_markdown tokenizes a prepared text with rs_tokens, which parses
            # ``$$`` blocks piecewise with markdown-it-py: the same only when each block
            # holds its own
            raise Fail
        walk.blocks(root.children, True, False)
        rows = {
            m.start() for m in DELIMITER_ROW.finditer(text) if "|" in m.group() and "-" in m.group()
        }
        if rows - walk.delimiter_rows:
            raise Fail  # markdown-it-py may read a table where markdown-it-pyrs did not
        if walk.block is None:
            break
        if split_parse:
            raise Fail  # a display block may end a block rs_tokens parses on its own
        start, end, tex = walk.block
        held = f"<!--\ue002{len(blocks)}\ue003-->" + ("\n" if end >= 0 else "")
        blocks.append(tex)
        text = data[:start].decode() + held + (data[end:].decode() if end >= 0 else "")
        if len(blocks) > 50:
            raise Fail
    return Analysis(text, walk.spans, walk.raw_spans, blocks, None if blocks else walk.code_lines)


def _tree(text: str) -> RsNode:
    tree = rust_tree(text)
    if tree is None:
        raise Fail  # a Rust panic
    return tree
