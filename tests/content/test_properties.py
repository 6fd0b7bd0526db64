"""Property-based: the parser never crashes, and whatever it emits is well formed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.content.parser import parse_text

# Lines built from the format's own pieces, so the fuzzing reaches deep into the parser.
PIECES = st.sampled_from(
    [
        "# 章节",
        "> 描述",
        "## 1. [小节]((http://x))",
        "### Q. 问题",
        "### Q.问题",
        "### ### Q 问题",
        "### 标题",
        "> **Company**: 美团 ｜ **Round**: 算法 一面 | **Date**: 2025-9-2 | **Tags**: [LoRA]",
        "**Company**: None  **Tags**: [LORA]",
        "<!-- id: pinned -->",
        "<!-- id: bad id -->",
        "<mark>要点",
        "</mark>",
        "<mark>",
        "```",
        "```py`",
        "~~~",
        "    indented",
        "- **术语**：解释",
        "$$",
        r"\[ a \]",
        "参考链接：https://example.com/x",
        "",
    ]
)
LINES = st.lists(st.one_of(PIECES, st.text(max_size=30)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(LINES)
def test_parser_never_crashes_on_format_like_text(lines: list[str]) -> None:
    text = "\n".join(lines)
    parsed = parse_text(text, path="fuzz.md")
    n_lines = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    for question in parsed.questions:
        assert question.title.strip()
        assert 1 <= question.line <= n_lines
        assert question.id
    assert len({q.id for q in parsed.questions}) == len(parsed.questions)
    for d in parsed.diagnostics:
        assert d.file == "fuzz.md" and d.line >= 1


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parser_never_crashes_on_arbitrary_text(text: str) -> None:
    parsed = parse_text(text, path="any.md")
    assert all(q.title.strip() and q.line >= 1 for q in parsed.questions)
