"""The file parser's outline (``app.content.outline``) reads every file as markdown-it-py does.

The outline leaves out the tokens the parser never reads, so it is compared on what the
parser reads (``parser._blocks``): each top-level block's type, tag, lines and whether
an inline token follows it, every code block's lines at any depth, and the text of
each heading. The corpus is ``test_rs_tokens``'s: ``content/``, a generated bank, and
every string literal of the content tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from markdown_it.token import Token

from app.content import rs_tokens
from app.content.answer_parts import plain
from app.content.markdown import markdown_parser
from app.content.outline import parse_outline
from app.content.parser import parse_text
from tests.content.test_rs_tokens import ROOT, _bench_bank, _fixture_strings

pytestmark = pytest.mark.skipif(not rs_tokens.available(), reason="markdown-it-pyrs missing")


def _read(tokens: list[Token]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for i, tok in enumerate(tokens):
        if tok.type in ("fence", "code_block"):
            out.append((tok.type, tok.map))
        elif tok.level == 0 and tok.map is not None and tok.nesting != -1:
            after = tokens[i + 1] if i + 1 < len(tokens) else None
            inline = after is not None and after.type == "inline"
            out.append((tok.type, tok.tag, tok.map, inline))
    return out


def _headings(tokens: list[Token]) -> list[str]:
    out = []
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.level == 0:
            inline = tokens[i + 1]
            if not inline.children and inline.content:  # markdown-it-py's block parser's
                inline = markdown_parser().parseInline(inline.content)[0]
            out.append(plain(inline))
    return out


def _normal(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")


def test_the_outline_reads_the_corpus_as_markdown_it_py(tmp_path: Path) -> None:
    files = sorted((ROOT / "content").glob("*.md")) + _bench_bank(tmp_path)
    texts = [p.read_text(encoding="utf-8") for p in files] + list(dict.fromkeys(_fixture_strings()))
    assert len(texts) > 200
    for text in map(_normal, texts):
        expected = markdown_parser().parse(text)
        outline = parse_outline(text)
        assert _read(outline) == _read(expected), text
        assert _headings(outline) == _headings(expected), text


def test_math_blocks_move_block_boundaries_as_markdown_it_py_reads_them() -> None:
    """A ``$$`` block can hold a blank line and a ``### Q.`` line: what the outline hands
    to markdown-it-py. Here the ``### Q.`` inside the formula is no question, and the
    ``<mark>`` in the fence below is no takeaway."""
    text = (
        "# Ch\n\n### Q. One\n> **Tags**: [a]\n\ntext\n\n$$\nx\n\n### Q. not a question\n$$\n"
        "- item $y$\n\n  ```\n  <mark>code</mark>\n  ```\n\n### Q. Two $z$\n\nb\n"
    )
    assert _read(parse_outline(text)) == _read(markdown_parser().parse(text))
    parsed = parse_text(text, path="f.md")
    assert [q.title for q in parsed.questions] == ["One", "Two $z$"]
    assert parsed.questions[0].takeaway is None
    assert "<math" in parsed.questions[0].answer_html
