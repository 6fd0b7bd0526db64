"""Import limits (``app.content.limits``): a huge answer, too many formulas, a huge title
or file is an error naming ``file:line``, found before anything is rendered."""

from __future__ import annotations

import time

from app.content import limits
from app.content.parser import parse_text

HEAD = "# 第一章\n\n"


def question(title: str, answer: str) -> str:
    return f"### Q. {title}\n> **Company**: 阿里 | **Tags**: [LoRA]\n\n{answer}\n\n"


def errors(text: str) -> list[str]:
    return [str(d) for d in parse_text(text, path="bank/a.md").errors]


def test_real_answers_pass() -> None:
    text = HEAD + question("一", "冻结 $W_0$，只训练 $B$ 和 $A$。") + question("二", "答案")
    assert errors(text) == []


def test_an_answer_too_long_is_an_error_at_its_line_and_costs_nothing() -> None:
    huge = "$x^2$ " * (limits.MAX_ANSWER_CHARS // 6 + 10)
    text = HEAD + question("一", "ok") + question("二", huge)
    started = time.perf_counter()
    found = errors(text)
    assert time.perf_counter() - started < 5
    assert len(found) == 1
    assert found[0].startswith("bank/a.md:8: error: answer is ")
    assert f"at most {limits.MAX_ANSWER_CHARS:,}" in found[0]


def test_too_many_formulas_in_one_answer() -> None:
    answer = " ".join(f"$x_{{{n}}}$" for n in range(limits.MAX_MATH_SPANS)) + r" \(y\) \[z\]"
    found = errors(HEAD + question("一", answer))
    assert found == [
        f"bank/a.md:3: error: answer has {limits.MAX_MATH_SPANS + 2:,} formulas; "
        f"at most {limits.MAX_MATH_SPANS:,} are allowed"
    ]


def test_too_many_formulas_in_one_file_is_reported_once() -> None:
    per = limits.MAX_MATH_SPANS
    count = limits.MAX_FILE_MATH_SPANS // per + 3
    text = HEAD + "".join(question(f"q{n}", "$a$ " * per) for n in range(count))
    found = errors(text)
    assert len(found) == 1 and "the file has over" in found[0]


def test_a_huge_title_and_a_huge_file() -> None:
    title = "长" * (limits.MAX_TITLE_CHARS + 1)
    found = errors(HEAD + question(title, "答案"))
    assert len(found) == 1 and found[0].startswith("bank/a.md:3: error: question title is")
    found = errors("x" * (limits.MAX_FILE_CHARS + 1))
    assert len(found) == 1 and found[0].startswith("bank/a.md:1: error: file is")
