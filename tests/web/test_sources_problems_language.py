"""The Sources page's "Warnings and errors" read in the page's language: the level's
word and the message, at the same ``file:line`` (the CLI and the JSON API stay English)."""

from __future__ import annotations

from tests.web.conftest import MakeClient, soup
from tests.web.test_sources_page import post_files

# No title, a field twice, a date with no day, a <mark> never closed, a bad pinned id.
DRIFTED = (
    "### Q. What is LoRA?\n"
    "> **Company**: 美团 | **Date**: 2025-9 | **Company**: 阿里\n\n"
    "Low <mark>rank.\n\n"
    "### Q. What is PPO?\n"
    "<!-- id: not an id -->\n"
    "> **Company**: 美团 | **Round**: 一面\n\n"
    "A policy method.\n"
)
UNREAD = "# Broken\n\n## Q. What is RLHF?\n\nNot read.\n"


def problems(language: str, make_client: MakeClient) -> list[tuple[str, str]]:
    client = make_client(language=language)
    response = post_files(client, [("a.md", DRIFTED.encode()), ("b.md", UNREAD.encode())])
    page = soup(response)
    assert page.select("#problems mark") == []  # a message's <mark> is text, escaped
    items = page.select("#problems li")
    return [(str(li["class"][0]), li.get_text(strip=True)) for li in items]


def test_a_chinese_page_shows_each_problem_and_its_level_in_chinese(
    make_client: MakeClient,
) -> None:
    assert problems("zh-CN", make_client) == [
        ("warning", "uploaded/a.md:2：警告：字段 'Company' 出现了两次；使用第一个"),
        ("warning", "uploaded/a.md:2：警告：日期 '2025-9' 没有日；按未知保存"),
        ("warning", "uploaded/a.md:4：警告：<mark> 没有关闭；它一直延续到答案末尾"),
        ("error", "uploaded/a.md:7：错误：固定 id 'not an id' 只能包含字母、数字、'.'、'_'、'-'"),
        ("warning", "uploaded/a.md:1：警告：没有 `# 标题` 行；章节以文件名命名"),
        (
            "error",
            "uploaded/b.md:1：错误：无法识别格式：应为 `### Q. 问题` 标题，每个标题下跟一行形如 "
            "`> **Company**: 美团 | **Round**: 算法工程师 一面 | **Date**: 2025-08-31 | "
            "**Tags**: [LoRA]` 的元数据；最接近的：第 3 行 `## Q. What is RLHF?`：它是 2 级标题"
            "（`##`），下面没有元数据行；题目应为 `### Q.`",
        ),
    ]


def test_an_english_page_shows_the_messages_as_the_command_line_does(
    make_client: MakeClient,
) -> None:
    found = problems("en", make_client)
    assert found[0] == (
        "warning",
        "uploaded/a.md:2: warning: field 'Company' appears twice; the first is used",
    )
    assert found[3] == (
        "error",
        "uploaded/a.md:7: error: pinned id 'not an id' must be letters, digits, '.', '_', '-'",
    )
