"""markdown-it-py's token stream, built from markdown-it-pyrs's (Rust) syntax tree.

Tokenizing was most of an import's time: markdown-it-py takes about 13 s for the 17.6 MB
of a 10,000-question bank, markdown-it-pyrs a tenth of that. The parser and renderer keep
working on markdown-it-py ``Token`` lists (``app.content.parser``, ``render``), so this
module turns the Rust tree into the same tokens, one top-level block at a time:

- dollar math is a markdown-it-py plugin with no Rust port (``app.content.markdown``):
  a paragraph with a ``$`` (at the top level, or on one line of a list item) has its
  inline part parsed by markdown-it-py from its source;
- any other block with a ``$`` (``$$`` display math, headings, cells, quotes, longer
  list paragraphs), or with a node this module does not know, is tokenized by
  markdown-it-py whole, from its first line to the next block's;
- a file with link reference definitions is tokenized by markdown-it-py whole (a
  reference can be used in any block);
- everything else is converted: tight lists' hidden paragraphs, table cell alignment,
  entities and escapes joined into text, autolinks, images, ``map`` line ranges as
  markdown-it-py counts them.

``tests/content/test_rs_tokens.py`` renders every question of the corpus both ways and
compares them. Without markdown-it-pyrs installed, markdown-it-py does everything.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any

from markdown_it.common.utils import MD_TRIM_CHARS
from markdown_it.token import Token

from app.content.markdown import markdown_parser
from app.content.rs_inline import INLINE_NAMES, Inline, Nesting, RsNode, Unsupported, new_token
from app.content.rs_parser import available, rust_tree

__all__ = ["BlockWriter", "available", "parse_inline", "parse_tokens", "read_blocks"]


Parse = Callable[[str], list[Token]]  # markdown-it-py for a region the Rust tree cannot give
_HEADING_MARKUP = {"=": "=", "-": "-"}
_ITEM_MARKER = re.compile(r"^[ \t]*(?:[-+*]|\d{1,9}[.)])(?:[ \t]+|$)")


class BlockWriter:
    """Writes the tokens of a text's top-level Rust block nodes (``read_blocks``):
    ``block`` converts one (``Unsupported``: markdown-it-py reads it instead)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode()
        self.newlines = [m.start() for m in re.finditer(b"\n", self.data)]
        self.out: list[Token] = []

    def line(self, offset: int) -> int:
        return bisect_left(self.newlines, offset)

    def span(self, node: RsNode) -> list[int]:
        if node.srcmap is None:
            raise Unsupported
        start, end = node.srcmap
        return [self.line(start), self.line(max(start, end - 1)) + 1]

    def source(self, node: RsNode) -> str:
        assert node.srcmap is not None
        return self.data[node.srcmap[0] : node.srcmap[1]].decode()

    def block(self, node: RsNode, line_map: list[int]) -> None:
        raise NotImplementedError

    def undo(self, mark: int) -> None:
        """Drop what a declined block wrote after ``out[:mark]``."""
        del self.out[mark:]


def read_blocks(writer: BlockWriter, nodes: Sequence[RsNode], parse: Parse) -> list[Token]:
    """The tokens of ``writer.text``, whose top-level blocks are ``nodes``: each written by
    ``writer.block`` unless it holds ``$$`` or is declined; from there ``parse``
    (markdown-it-py) reads to the next block a ``$$`` formula cannot reach."""
    text, data = writer.text, writer.data
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    starts = [writer.span(n)[0] for n in nodes] + [line_count(text)]
    list_ends = list_extents(text, starts)
    i = 0
    while i < len(nodes):
        node = nodes[i]
        assert node.srcmap is not None
        if b"$$" not in data[node.srcmap[0] : node.srcmap[1]]:
            mark = len(writer.out)
            try:
                end = list_ends[i] if node.name.endswith("_list") else writer.span(node)[1]
                writer.block(node, [starts[i], end])
                i += 1
                continue
            except Unsupported:
                writer.undo(mark)
        j = math_region_end(nodes, i, data)
        lo = starts[i]
        writer.out.extend(shifted(parse(lines_between(text, line_starts, lo, starts[j])), lo))
        i = j
    return writer.out


class _Blocks(BlockWriter):
    """Block nodes of one file -> markdown-it-py's block tokens."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.level = 0
        self.in_list = False

    def block(self, node: RsNode, line_map: list[int]) -> None:
        self.node(node, line_map)

    def undo(self, mark: int) -> None:
        super().undo(mark)
        self.level = 0

    def at_end(self, node: RsNode, content: str) -> str:
        """A block running to the end of a file with no final newline has none in its
        content for markdown-it-py; markdown-it-pyrs adds one."""
        assert node.srcmap is not None
        if node.srcmap[1] >= len(self.data) and not self.data.endswith(b"\n"):
            return content.removesuffix("\n")
        return content

    def push(self, type_: str, tag: str, nesting: Nesting, **kw: Any) -> Token:
        if nesting < 0:
            self.level -= 1
        token = new_token(type_, tag, nesting, self.level, True, **kw)
        if nesting > 0:
            self.level += 1
        self.out.append(token)
        return token

    def inline(
        self, nodes: Sequence[RsNode], content: str, line_map: list[int] | None, math: bool = False
    ) -> None:
        """``math``: ``content`` (exactly markdown-it-py's inline source) holds a ``$``,
        so markdown-it-py's own inline parser (with dollar math) reads it."""
        if math:
            children = markdown_parser().parseInline(content)[0].children or []
        else:
            children = Inline().nodes(nodes)
            if _trimmed_differently(children):
                raise Unsupported
        self.push("inline", "", 0, content=content, map=line_map, children=children)

    def node(self, node: RsNode, line_map: list[int] | None = None) -> None:
        name, meta = node.name, node.meta
        line_map = line_map or self.span(node)
        if name == "paragraph":
            source = self.source(node)
            math = "$" in source
            # Math is read from the paragraph's source: exact at the top level, or on one
            # line in a list (the item's indentation removed); elsewhere the whole block
            # goes to markdown-it-py.
            if math and not (self.level == 0 or (self.in_list and "\n" not in source)):
                raise Unsupported
            self.push("paragraph_open", "p", 1, map=line_map)
            self.inline(node.children, source.strip(), line_map, math)
            self.push("paragraph_close", "p", -1)
        elif "$" in self.source(node) and name not in ("bullet_list", "ordered_list"):
            raise Unsupported  # headings, cells and quotes with math: markdown-it-py
        elif name in ("heading", "lheading"):
            tag = f"h{meta['level']}"
            markup = _HEADING_MARKUP.get(meta.get("marker", ""), "#" * meta["level"])
            self.push("heading_open", tag, 1, map=line_map, markup=markup)
            self.inline(node.children, "", line_map)
            self.push("heading_close", tag, -1, markup=markup)
        elif name == "blockquote":
            self.push("blockquote_open", "blockquote", 1, map=line_map, markup=">")
            for child in node.children:
                self.node(child)
            self.push("blockquote_close", "blockquote", -1, markup=">")
        elif name in ("bullet_list", "ordered_list"):
            self.list_block(node, line_map)
        elif name == "fence":
            markup = meta["marker"] * meta["marker_len"]
            closing = self.source(node).rsplit("\n", 1)[-1].strip()
            closed = len(closing) >= len(markup) and not closing.strip(meta["marker"])
            content = meta["content"] if closed else self.at_end(node, meta["content"])
            info = meta["info"]
            self.push("fence", "code", 0, map=line_map, content=content, info=info, markup=markup)
        elif name == "code_block":
            self.push("code_block", "code", 0, map=line_map, content=meta["content"])
        elif name == "html_block":
            content = self.at_end(node, meta["content"])
            self.push("html_block", "", 0, map=line_map, content=content)
        elif name == "hr":
            self.push("hr", "hr", 0, map=line_map, markup=self.source(node).strip())
        elif name == "table":
            self.table(node, line_map)
        else:
            raise Unsupported

    def list_block(self, node: RsNode, line_map: list[int]) -> None:
        ordered = node.name == "ordered_list"
        tag = "ol" if ordered else "ul"
        marker = node.meta["marker"]
        attrs: dict[str, str | int | float] = {}
        if ordered and node.meta["start"] != 1:
            attrs["start"] = node.meta["start"]
        self.push(f"{node.name}_open", tag, 1, map=line_map, markup=marker, attrs=attrs)
        for item in node.children:
            if item.name != "list_item":
                raise Unsupported
            item_map = self.span(item)
            info = self.source(item).lstrip().split(marker, 1)[0] if ordered else ""
            self.push("list_item_open", "li", 1, map=item_map, markup=marker, info=info)
            run: list[RsNode] = []
            first = True
            for child in [*item.children, None]:
                if child is not None and child.name in INLINE_NAMES:
                    run.append(child)
                    continue
                if run:  # a tight list's paragraph: hidden, its text straight in the <li>
                    content = self.run_with_math(item, item_map, child) if first else None
                    if content is None and not first and "$" in self.source(item):
                        raise Unsupported
                    self.push("paragraph_open", "p", 1, map=item_map, hidden=True)
                    self.inline(run, content or "", item_map, content is not None)
                    self.push("paragraph_close", "p", -1, hidden=True)
                    run = []
                first = False
                if child is not None:
                    outer, self.in_list = self.in_list, True
                    self.node(child)
                    self.in_list = outer
            self.push("list_item_close", "li", -1, markup=marker)
        self.push(f"{node.name}_close", tag, -1, markup=marker)

    def run_with_math(self, item: RsNode, item_map: list[int], after: RsNode | None) -> str | None:
        """The source of a tight item's leading text when it holds a ``$``: its first line
        after the marker, if the text is on that line alone; ``None`` when it has no
        ``$``. Anything else is markdown-it-py's (``Unsupported``)."""
        source = self.source(item)
        head = source.split("\n", 1)[0]
        if "$" not in head and (after is not None or "$" not in source):
            return None
        one_line = item_map[1] - item_map[0] == 1 or (
            after is not None and self.span(after)[0] == item_map[0] + 1
        )
        marker = _ITEM_MARKER.match(head)
        if not one_line or marker is None or "$$" in head:
            raise Unsupported
        return head[marker.end() :].strip()

    def table(self, node: RsNode, line_map: list[int]) -> None:
        aligns = node.meta.get("alignments") or []
        self.push("table_open", "table", 1, map=line_map)
        for part in node.children:
            if part.name not in ("thead", "tbody"):
                raise Unsupported
            self.push(f"{part.name}_open", part.name, 1, map=self.span(part))
            cell = "th" if part.name == "thead" else "td"
            for row in part.children:
                row_map = self.span(row)
                self.push("tr_open", "tr", 1, map=row_map)
                for i, td in enumerate(row.children):
                    align = aligns[i] if i < len(aligns) else "none"
                    attrs: dict[str, str | int | float] = {}
                    if align in ("left", "right", "center"):
                        attrs["style"] = f"text-align:{align}"
                    self.push(f"{cell}_open", cell, 1, attrs=attrs, map=row_map)
                    self.inline(td.children, "", row_map)
                    self.push(f"{cell}_close", cell, -1)
                self.push("tr_close", "tr", -1)
            self.push(f"{part.name}_close", part.name, -1)
        self.push("table_close", "table", -1)


# Spaces markdown-it-py trims from the ends of an inline run and markdown-it-pyrs keeps
# (an ideographic space ending a Chinese paragraph).
_ODD_SPACES = frozenset(MD_TRIM_CHARS) - frozenset(" \t\n")


def _trimmed_differently(children: list[Token]) -> bool:
    first, last = (children[0], children[-1]) if children else (None, None)
    return (first is not None and first.type == "text" and first.content[:1] in _ODD_SPACES) or (
        last is not None and last.type == "text" and last.content[-1:] in _ODD_SPACES
    )


def line_count(text: str) -> int:
    """markdown-it-py's ``lineMax``: lines, the empty one after a final newline not counted."""
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def list_extents(text: str, starts: list[int]) -> list[int]:
    """Where a list starting at each of ``starts`` ends for markdown-it-py: at the next
    block; the last one at the end, less a final line of spaces with no newline after it
    (markdown-it-py leaves that line out, and includes it when a newline follows)."""
    ends = starts[1:]
    last = text.rsplit("\n", 1)[-1]
    if ends and last and not last.strip(" \t"):
        ends[-1] -= 1
    return ends


def math_region_end(nodes: Sequence[RsNode], i: int, data: bytes) -> int:
    """The index of the first node after ``nodes[i]`` that a ``$$`` formula starting in it
    cannot reach: ``$$`` math may hold blank lines, so an odd count of ``$$`` pulls in
    the next block."""
    start, end = nodes[i].srcmap or (0, 0)
    j = i + 1
    while j < len(nodes) and data[start:end].count(b"$$") % 2:
        end = (nodes[j].srcmap or (0, end))[1]
        j += 1
    return j


def lines_between(text: str, line_starts: list[int], lo: int, hi: int) -> str:
    """Lines ``lo`` to ``hi`` (exclusive) of ``text``, with their newlines."""
    end = line_starts[hi] if hi < len(line_starts) else len(text)
    return text[line_starts[lo] : end]


def shifted(tokens: list[Token], lines: int) -> list[Token]:
    for token in tokens:
        if token.map is not None:
            token.map = [token.map[0] + lines, token.map[1] + lines]
    return tokens


def parse_tokens(text: str) -> list[Token]:
    """``markdown_parser().parse(text)``'s tokens (``text`` with ``\\n`` line ends)."""
    md = markdown_parser()
    root = rust_tree(text)
    if root is None or any(n.name == "definition" for n in root.children):
        return md.parse(text)
    return read_blocks(_Blocks(text), root.children, md.parse)


def parse_inline(text: str) -> list[Token]:
    """``markdown_parser().parseInline(text)``'s tokens: one ``inline`` token."""
    md = markdown_parser()
    root = rust_tree(text) if "$" not in text and text == text.strip() else None
    nodes = root.children if root is not None else []
    if len(nodes) != 1 or nodes[0].name != "paragraph":
        return md.parseInline(text)
    try:
        children = Inline().nodes(nodes[0].children)
    except Unsupported:
        return md.parseInline(text)
    return [Token("inline", "", 0, content=text, map=[0, 1], children=children)]
