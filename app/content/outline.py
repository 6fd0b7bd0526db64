"""A file's outline: the block tokens the file parser walks (``app.content.parser``).

The parser reads a file's structure, not its prose: the top-level blocks (type, tag, line
range), the text of headings, and where code blocks are at any depth (a ``<mark>`` in
code is no takeaway). Answers are rendered from their own text afterwards
(``app.content.answer_render``). Building every token of a file cost most of an
import, so the outline holds only:

- each top-level block's tokens at level 0 (``paragraph_open``, ``heading_open``,
  ``bullet_list_open``, ``fence``, ...) with markdown-it-py's line ``map``, and the
  ``*_close`` that ends it;
- after a paragraph's or heading's opening token, its ``inline`` token, holding the
  block's text as ``content`` and no children (as markdown-it-py's block parser leaves
  it; the parser reads a ``#``/``##`` heading's inline tokens from it);
- every ``fence`` and ``code_block`` nested in a list or quote, with its ``map``.

They come from markdown-it-pyrs's tree with its block rules only (no inline nodes: they
were half the tree's cost). Only ``$$`` can move a block boundary (a math block may
interrupt a paragraph or hold blank lines), so a top-level block with ``$$``,
with a node this module does not know, or a heading with ``$``, is read by
markdown-it-py's block parser (from its first line to the next block's), as is a file
with link reference definitions or one the Rust parser cannot read; their tokens come
whole (nested ones included), which the parser's walk reads the same way.
``tests/content/test_outline.py`` checks the outline against markdown-it-py's tokens on
the whole corpus.
"""

from __future__ import annotations

from collections.abc import Sequence

from markdown_it.token import Token

from app.content.markdown import markdown_parser
from app.content.rs_inline import Nesting, RsNode, Unsupported, new_token
from app.content.rs_parser import rust_tree
from app.content.rs_tokens import BlockWriter, read_blocks

__all__ = ["parse_outline"]

_CONTAINERS = frozenset({"blockquote", "bullet_list", "ordered_list", "list_item"})
_LEAVES = {"fence": "code", "code_block": "code", "html_block": "", "hr": "hr"}
_HEADING_MARKUP = {"=": "=", "-": "-"}


def _block_parse(text: str) -> list[Token]:
    """markdown-it-py's block tokens (no inline children), as ``parse`` would give them."""
    md = markdown_parser()
    tokens: list[Token] = []
    md.block.parse(text.replace("\0", "\ufffd"), md, {}, tokens)
    return tokens


class _Outline(BlockWriter):
    def push(self, type_: str, tag: str, nesting: Nesting, level: int, **kw: object) -> None:
        self.out.append(new_token(type_, tag, nesting, level, True, **kw))  # type: ignore[arg-type]

    def block(self, node: RsNode, line_map: list[int]) -> None:
        """One top-level block's tokens (``Unsupported``: markdown-it-py reads it)."""
        name = node.name
        if name == "paragraph":
            self.push("paragraph_open", "p", 1, 0, map=line_map)
            content = self.source(node).strip()
            self.push("inline", "", 0, 1, content=content, map=line_map, children=[])
            self.push("paragraph_close", "p", -1, 0)
        elif name in ("heading", "lheading"):
            if "$" in self.source(node):
                raise Unsupported  # dollar math in a heading: markdown-it-py's inline
            tag = f"h{node.meta['level']}"
            markup = _HEADING_MARKUP.get(node.meta.get("marker", ""), "#" * node.meta["level"])
            content = node.children[0].meta["content"] if node.children else ""
            self.push("heading_open", tag, 1, 0, map=line_map, markup=markup)
            self.push("inline", "", 0, 1, content=content, map=line_map, children=[])
            self.push("heading_close", tag, -1, 0, markup=markup)
        elif name in ("blockquote", "bullet_list", "ordered_list"):
            tag = {"blockquote": "blockquote", "bullet_list": "ul", "ordered_list": "ol"}[name]
            self.push(f"{name}_open", tag, 1, 0, map=line_map)
            self.code_blocks(node.children, 1)
            self.push(f"{name}_close", tag, -1, 0)
        elif name == "table":
            self.push("table_open", "table", 1, 0, map=line_map)
            self.push("table_close", "table", -1, 0)
        elif name in _LEAVES:
            content = node.meta.get("content", "") if name == "html_block" else ""
            self.push(name, _LEAVES[name], 0, 0, map=line_map, content=content)
        else:
            raise Unsupported

    def code_blocks(self, nodes: Sequence[RsNode], level: int) -> None:
        """The code blocks inside a list or quote, at any depth."""
        for node in nodes:
            if node.name in ("fence", "code_block"):
                self.push(node.name, "code", 0, level, map=self.span(node))
            elif node.name in _CONTAINERS:
                self.code_blocks(node.children, level + 1)


def parse_outline(text: str) -> list[Token]:
    """The outline of ``text`` (``\\n`` line ends): see the module's docstring."""
    root = rust_tree(text, blocks_only=True)
    if root is None or any(n.name == "definition" for n in root.children):
        return _block_parse(text)
    return read_blocks(_Outline(text), root.children, _block_parse)
