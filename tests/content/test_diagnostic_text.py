"""A diagnostic keeps its English message (``str(d)``: the CLI, the JSON API) and
carries its template and values, so a page shows it in the reader's language; the parse
cache keeps both."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from app.content import cache as parse_cache
from app.content.model import Diagnostic, Message
from app.content.parser import FORMAT_HINT, parse_text
from app.i18n import current_language, set_language

# A level-2 question heading and nothing read: the error nests the format's hint and the
# nearest line's reason, each a template with its own values.
UNREAD = "# C\n\n## Q. What is LoRA?\n\nLow rank.\n"


@pytest.fixture
def zh() -> Iterator[None]:
    before = current_language()
    set_language("zh")
    yield
    set_language(before)


def test_the_english_message_is_as_before_and_the_page_text_follows_the_language(
    zh: None,
) -> None:
    [error] = parse_text(UNREAD, path="bank/a.md").errors
    assert str(error) == (
        f"bank/a.md:1: error: format not recognised: {FORMAT_HINT}; nearest: line 3 "
        "`## Q. What is LoRA?`: it is a level-2 heading (`##`) with no metadata line under it; "
        "questions are `### Q.`"
    )
    assert (error.level_text, error.text) == (
        "错误",
        "无法识别格式：应为 `### Q. 问题` 标题，每个标题下跟一行形如 `> **Company**: 美团 | "
        "**Round**: 算法工程师 一面 | **Date**: 2025-08-31 | **Tags**: [LoRA]` 的元数据；"
        "最接近的：第 3 行 `## Q. What is LoRA?`：它是 2 级标题（`##`），下面没有元数据行；"
        "题目应为 `### Q.`",
    )
    set_language("en")
    assert (error.level_text, error.text) == ("error", error.message)


def test_metadata_problems_read_in_chinese(zh: None) -> None:
    text = "# C\n\n### Q. A\n> **Company**: X | **Date**: 2025-9 | **Company**: Y\n\nyes\n"
    problems = [d for d in parse_text(text, path="a.md").warnings if d.line == 4]
    assert [d.message for d in problems] == [
        "field 'Company' appears twice; the first is used",
        "date '2025-9' has no day; stored as unknown",
    ]
    assert [(d.level_text, d.text) for d in problems] == [
        ("警告", "字段 'Company' 出现了两次；使用第一个"),
        ("警告", "日期 '2025-9' 没有日；按未知保存"),
    ]


def test_a_cached_parse_keeps_each_template_and_its_values(zh: None) -> None:
    parsed = parse_text(UNREAD + "\n<mark>open\n", path="a.md")
    back = parse_cache.decode(parse_cache.encode(parsed))
    assert back.diagnostics == parsed.diagnostics
    for before, after in zip(parsed.diagnostics, back.diagnostics, strict=True):
        assert (after.template, after.values) == (before.template, before.values)
        assert after.text == before.text != after.message
    [error] = back.errors
    hint = error.values["hint"]
    assert isinstance(hint, Message) and hint.values["line"] == 3
    # What the cache stores is plain JSON: text and numbers, a nested message as a mapping.
    stored = json.dumps(parse_cache.to_dict(parsed)["diagnostics"], ensure_ascii=False)
    assert '"line": 3' in stored and "nearest: line %(line)d" in stored


def test_a_diagnostic_without_a_template_is_shown_as_written(zh: None) -> None:
    plain = Diagnostic("a.md", 2, "warning", "no template here")
    assert (plain.level_text, plain.text, str(plain)) == (
        "警告",
        "no template here",
        "a.md:2: warning: no template here",
    )
    made = Diagnostic.of("a.md", 2, "warning", "no such %(thing)s", thing="entry")
    assert made == Diagnostic("a.md", 2, "warning", "no such entry")
    assert made.text == "no such entry"  # a template the catalogue lacks stays English
