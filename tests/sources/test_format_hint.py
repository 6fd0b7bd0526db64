"""A file with no question read gets today's message plus the nearest format hint: which
line looked like a question, and why it was not read (issue 18)."""

from __future__ import annotations

import pytest

from app.content.parser import FORMAT_HINT, parse_text


@pytest.mark.parametrize(
    ("text", "line", "why"),
    [
        ("# C\n\n## Q. What is LoRA?\n\nLow rank.\n", 3, "level-2 heading (`##`)"),
        # (``###Q.`` is read as a question, with a warning: app.content.headings)
        ("# C\n\n####Q. What is LoRA?\n\nLow rank.\n", 3, "no space after it is no heading"),
        ("# C\n\nsome text\n\nQ. What is LoRA?\nLow rank.\n", 5, "it is not a heading"),
        ("# C\n\n```\n### Q. What is LoRA?\n```\n", 4, "inside a code block (opened at line 3)"),
        ("# C\n\n### What is LoRA?\n\nLow rank.\n", 3, "only when a metadata line"),
    ],
)
def test_no_question_names_the_nearest_line_and_why(text: str, line: int, why: str) -> None:
    parsed = parse_text(text, path="mine.md")
    [error] = parsed.errors
    assert error.message.startswith(f"format not recognised: {FORMAT_HINT}")
    assert f"nearest: line {line} `" in error.message and why in error.message


def test_no_hint_when_nothing_looks_like_a_question() -> None:
    [error] = parse_text("# C\n\nJust prose.\n", path="mine.md").errors
    assert error.message == f"format not recognised: {FORMAT_HINT}"
