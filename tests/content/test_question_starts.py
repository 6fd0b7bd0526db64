"""A hand-written bank's questions are found however their heading and metadata line
drift (``app.content.headings``, ``app.content.metadata``): none silently joins the
answer above, and what is still not read as a question is a warning at its line."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from app.content.metadata import looks_like_metadata, parse_metadata_line
from app.content.model import AskedRecord, ParsedFile
from app.content.parser import parse_text

META = "> **Company**: 美团 | **Round**: 算法工程师 一面 | **Date**: 2025-08-31 | **Tags**: [LoRA]"
MEITUAN = AskedRecord(company="美团", role="算法工程师", stage="一面", date=dt.date(2025, 8, 31))


def parse(text: str) -> ParsedFile:
    return parse_text(textwrap.dedent(text).lstrip("\n"), path="t.md")


def warnings(parsed: ParsedFile) -> list[tuple[int, str]]:
    return [(d.line, d.message) for d in parsed.diagnostics if d.level == "warning"]


@pytest.mark.parametrize(
    ("line", "asked", "tags"),
    [
        (
            "字节跳动 | 算法工程师 一面 | 2024-03-02 | RLHF, DPO",
            AskedRecord("字节跳动", "算法工程师", "一面", dt.date(2024, 3, 2)),
            ["RLHF", "DPO"],
        ),
        (  # full-width bars, the round as two fields
            "> 阿里｜大模型算法工程师｜二面｜2024/5/1｜RLHF、KL",
            AskedRecord("阿里", "大模型算法工程师", "二面", dt.date(2024, 5, 1)),
            ["RLHF", "KL"],
        ),
        (  # no date, a stage: still surely a metadata line
            "腾讯 | 一面 | | [RLHF]",
            AskedRecord("腾讯", None, "一面", None),
            ["RLHF"],
        ),
        (  # no tags; outer bars; bold values
            "| **美团** | 算法工程师 一面 | 2025-08-31 |",
            MEITUAN,
            [],
        ),
    ],
)
def test_a_metadata_line_without_field_names(
    line: str, asked: AskedRecord, tags: list[str]
) -> None:
    assert looks_like_metadata(line)
    meta = parse_metadata_line(line)
    assert (meta.asked, meta.tags, meta.problems) == (asked, tags, [])


@pytest.mark.parametrize(
    "line",
    [
        "方法 | 参数量 | 日期 | 备注",  # a table's header: no date between the bars
        "LoRA | QLoRA | DoRA",
        "训练 | 推理 | 部署 | 2025-01-01",  # a date, but after three fields and no stage
        "a | b | 2025-01-01 | c | d | e",
        "x" * 90 + " | 一面 | 2025-01-01",  # a field too long to be a company
    ],
)
def test_bars_in_prose_or_a_table_are_no_metadata(line: str) -> None:
    assert not looks_like_metadata(line)


def test_questions_with_unnamed_metadata_fields_keep_their_company_and_tags() -> None:
    parsed = parse(
        """
        # C
        ### Q. 第一题
        字节跳动 | 算法工程师 一面 | 2024-03 | RLHF, DPO

        答案一
        ### Q. 第二题
        方法 | 参数量
        ---|---
        LoRA | 小
        """
    )
    first, second = parsed.questions
    assert first.asked == [AskedRecord("字节跳动", "算法工程师", "一面", None)]
    assert first.tags == ["RLHF", "DPO"] and first.answer_md == "答案一"
    # The date without a day is unknown, said at its line, as with field names.
    assert (3, "date '2024-03' has no day; stored as unknown") in warnings(parsed)
    # A table right under a heading is the answer, not metadata.
    assert second.asked == [] and second.answer_md.startswith("方法 | 参数量")


def test_headings_of_other_levels_start_a_question_when_metadata_follows() -> None:
    parsed = parse(
        f"""
        # C
        ## 1. PEFT
        #### Q. 四级标题
        {META}

        答案一
        ## Q. 二级标题
        {META}

        答案二
        ##### 没有 Q 的五级标题
        {META}

        答案三
        """
    )
    titles = [q.title for q in parsed.questions]
    assert titles == ["四级标题", "二级标题", "没有 Q 的五级标题"]
    assert all(q.asked == [MEITUAN] for q in parsed.questions)
    assert [q.answer_md for q in parsed.questions] == ["答案一", "答案二", "答案三"]
    assert parsed.questions[0].section == "PEFT"
    assert warnings(parsed) == []


def test_a_q_heading_below_level_three_without_metadata_is_a_warning() -> None:
    parsed = parse(
        f"""
        # C
        ### Q. 问题
        {META}

        答案
        #### Q. 答案里的小标题
        小标题下的文字
        """
    )
    [question] = parsed.questions
    assert "#### Q. 答案里的小标题" in question.answer_md
    [(line, message)] = warnings(parsed)
    assert line == 6 and message.startswith("`#### Q.` heading with no metadata line")


def test_loose_question_lines() -> None:
    parsed = parse(
        f"""
        # C
        ###Q. 井号后没有空格
        答案一的第一行
        ###Q. 紧跟在段落后
        {META}

        答案二
        Q1：没有井号
        {META}

        答案三
        **Q2. 加粗的一行**
        {META}

        答案四
        Q: 答案里的问答体，后面没有元数据
        所以只是答案的文字
        """
    )
    titles = [q.title for q in parsed.questions]
    assert titles == ["井号后没有空格", "紧跟在段落后", "没有井号", "加粗的一行"]
    assert [q.asked for q in parsed.questions] == [[], [MEITUAN], [MEITUAN], [MEITUAN]]
    assert parsed.questions[0].answer_md == "答案一的第一行"
    assert parsed.questions[1].answer_md == "答案二"
    assert parsed.questions[3].answer_md.endswith(
        "Q: 答案里的问答体，后面没有元数据\n所以只是答案的文字"
    )
    loose = [line for line, message in warnings(parsed) if message.startswith("`###Q.`")]
    assert loose == [2, 4]  # 1-based


def test_a_metadata_line_no_heading_claims_is_a_warning_but_not_in_code() -> None:
    parsed = parse(
        f"""
        # C
        ### Q. 问题
        {META}

        答案
        问题标题忘了写成标题
        {META}
        ```
        {META}
        ###Q. 代码里的不是问题
        ```
        - {META.removeprefix("> ")}
        """
    )
    [question] = parsed.questions
    assert question.answer_md.count("**Company**") == 3
    stray = [(line, m) for line, m in warnings(parsed) if "no question heading above" in m]
    assert [line for line, _ in stray] == [7]
