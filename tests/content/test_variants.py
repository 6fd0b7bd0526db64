"""Hand-written files drift from the format; each variant must still parse correctly."""

from __future__ import annotations

import datetime as dt
import textwrap

from app.content.model import AskedRecord, ParsedFile
from app.content.parser import parse_text

META = "> **Company**: 美团 | **Round**: 算法工程师 一面 | **Date**: 2025-08-31 | **Tags**: [LoRA]"
MEITUAN = AskedRecord(company="美团", role="算法工程师", stage="一面", date=dt.date(2025, 8, 31))


def parse(text: str) -> ParsedFile:
    return parse_text(textwrap.dedent(text).lstrip("\n"), path="t.md")


def only(text: str) -> ParsedFile:
    parsed = parse(text)
    assert len(parsed.questions) == 1, parsed.questions
    return parsed


def test_full_width_and_mixed_separators() -> None:
    parsed = only(
        """
        # C
        ### Q. 混合分隔符
        > **Company**: 阿里 ｜ **Round**: 算法工程师 二面 | **Date**: 2025-08-01 ｜ **Tags**: [LoRA, PEFT]

        答案
        """
    )
    q = parsed.questions[0]
    assert q.asked == [AskedRecord("阿里", "算法工程师", "二面", dt.date(2025, 8, 1))]
    assert q.tags == ["LoRA", "PEFT"]


def test_only_spaces_between_fields() -> None:
    q = only(
        """
        ### Q. 空格分隔
        **Company**: 字节跳动  **Round**: 大模型算法工程师 三面  **Date**: 2025-07-09  **Tags**: [RLHF]

        答案
        """
    ).questions[0]
    assert q.asked == [AskedRecord("字节跳动", "大模型算法工程师", "三面", dt.date(2025, 7, 9))]
    assert q.tags == ["RLHF"]


def test_metadata_without_quote_marker() -> None:
    q = only(f"### Q. 无引用符\n{META.removeprefix('> ')}\n\n答案\n").questions[0]
    assert q.asked == [MEITUAN]
    assert q.answer_md == "答案"


def test_metadata_after_a_blank_line() -> None:
    q = only(f"### Q. 空行之后\n\n{META}\n\n答案\n").questions[0]
    assert q.asked == [MEITUAN]
    assert q.tags == ["LoRA"]
    assert q.answer_md == "答案"


def test_metadata_followed_directly_by_answer_text() -> None:
    # A quote's lazy continuation swallows the next line; it is still answer text.
    q = only(f"### Q. 紧跟答案\n{META}\n参考链接：https://example.com/a\n").questions[0]
    assert q.asked == [MEITUAN]
    assert q.answer_md == "参考链接：https://example.com/a"
    assert q.reference_links == ["https://example.com/a"]


def test_question_without_metadata_is_imported_with_a_warning() -> None:
    parsed = only("# C\n## S\n### Q. 没有元数据\n\n答案在这里\n")
    q = parsed.questions[0]
    assert q.asked == [] and q.tags == []
    assert q.answer_md == "答案在这里"
    [warning] = parsed.warnings
    assert warning.line == 3 and "no metadata line" in warning.message
    assert str(warning).startswith("t.md:3: warning:")


def test_none_fields_are_unknown() -> None:
    q = only(
        """
        ### Q. 未知字段
        > **Company**: None | **Round**: None | **Date**: None | **Tags**: [LoRA, None]
        答案
        """
    ).questions[0]
    assert q.asked == [AskedRecord(None, None, None, None)]
    assert q.tags == ["LoRA"]


def test_short_dates_and_doubled_spaces() -> None:
    q = only(
        """
        ### Q.  双空格   的   标题
        > **Company**:  腾讯  |  **Round**:  后端开发   二面 | **Date**: 2025-09-2 | **Tags**: [ LoRA ,  PEFT ]
        答案
        """
    ).questions[0]
    assert q.title == "双空格 的 标题"
    assert q.asked == [AskedRecord("腾讯", "后端开发", "二面", dt.date(2025, 9, 2))]
    assert q.tags == ["LoRA", "PEFT"]


def test_impossible_date_is_unknown_with_a_warning() -> None:
    parsed = only("# C\n### Q. 日期\n> **Company**: 腾讯 | **Date**: 2025-13-40\n答案\n")
    assert parsed.questions[0].asked[0].date is None
    [warning] = parsed.warnings
    assert warning.line == 3 and "2025-13-40" in warning.message


def test_heading_variants() -> None:
    parsed = parse(
        f"""
        # C
        ### Q.无空格
        {META}
        ### Q 空格
        {META}
        ### ### Q. 重复井号
        {META}
        ### 没有Q但有元数据
        {META}
        ### 普通小标题
        不是问题
        """
    )
    titles = [q.title for q in parsed.questions]
    assert titles == ["无空格", "空格", "重复井号", "没有Q但有元数据"]
    assert all(q.asked == [MEITUAN] for q in parsed.questions)
    # A plain ### heading without metadata stays inside the previous answer.
    assert "### 普通小标题" in parsed.questions[-1].answer_md


def test_mark_closed_by_a_second_mark_and_over_several_lines() -> None:
    parsed = parse(
        f"""
        # C
        ### Q. 一
        {META}
        前文 <mark>第一行
        第二行<mark> 后文
        ### Q. 二
        {META}
        <mark>**总结**：跨
        多行
        的要点</mark>
        """
    )
    first, second = parsed.questions
    assert first.takeaway == "第一行\n第二行"
    assert "第二行</mark> 后文" in first.answer_md  # repaired for rendering
    assert [w.line for w in parsed.warnings] == [5]
    assert second.takeaway == "**总结**：跨\n多行\n的要点"


def test_code_blocks_hold_no_questions() -> None:
    parsed = parse(
        f"""
        # C
        ### Q. 真问题
        {META}
        ```markdown
        ### Q. 代码里的问题
        {META}
        ## 代码里的小节
        <mark>not a takeaway</mark>
        ```

            ### Q. indented code is code too
        ~~~
        # 不是章节
        ~~~
        结尾 <mark>真要点</mark>
        """
    )
    [q] = parsed.questions
    assert q.title == "真问题"
    assert q.section is None
    assert q.takeaway == "真要点"
    assert "### Q. 代码里的问题" in q.answer_md


def test_backticks_in_the_info_string_open_no_fence() -> None:
    # CommonMark: a backtick fence's info string may not contain backticks, so the line
    # below is a paragraph and the following ### Q. is a real question.
    parsed = parse(
        f"""
        ### Q. 一
        {META}
        ```py`
        ### Q. 二
        {META}
        答案
        """
    )
    assert [q.title for q in parsed.questions] == ["一", "二"]


def test_links_in_section_headings_including_broken_ones() -> None:
    parsed = parse(
        f"""
        # C
        ## 1. [PEFT](https://example.com/peft) 方法
        ### Q. 一
        {META}
        ## [破损链接]((https://example.com))
        ### Q. 二
        {META}
        ## 2. [空链接]()
        ### Q. 三
        {META}
        """
    )
    assert [q.section for q in parsed.questions] == ["PEFT 方法", "破损链接", "空链接"]


def test_pinned_id_and_duplicate_titles() -> None:
    parsed = parse(
        f"""
        ### Q. 同名
        <!-- id: lora-basics -->
        {META}
        答案
        ### Q. 同名
        {META}
        ### Q. 同名
        {META}
        """
    )
    ids = [q.id for q in parsed.questions]
    assert ids[0] == "lora-basics"
    assert ids[2] == ids[1] + "-2"
    assert parsed.questions[0].pinned_id
    assert [w.line for w in parsed.warnings if "same title" in w.message] == [7]


def test_invalid_pinned_id_is_an_error() -> None:
    parsed = parse(f"### Q. x\n<!-- id: bad id! -->\n{META}\n")
    [error] = parsed.errors
    assert error.line == 2 and "bad id!" in error.message


def test_other_qa_format_is_not_recognised() -> None:
    parsed = parse(
        """
        # Interview questions
        ## 1. What is LoRA?
        **Answer:** A low-rank update.
        ## 2. What is QLoRA?
        **Answer:** LoRA on a 4-bit base.
        """
    )
    assert parsed.questions == []
    [error] = parsed.diagnostics
    assert error.level == "error" and "format not recognised" in error.message
    assert error.line == 1


def test_several_metadata_lines_are_several_asked_records() -> None:
    q = only(
        """
        ### Q. 被问两次
        > **Company**: 美团 | **Round**: 算法工程师 一面 | **Date**: 2025-08-31 | **Tags**: [LoRA]
        > **Company**: 阿里 | **Round**: 算法工程师 二面 | **Date**: 2025-09-01 | **Tags**: [LORA, PEFT]

        答案
        """
    ).questions[0]
    assert [a.company for a in q.asked] == ["美团", "阿里"]
    assert q.tags == ["LoRA", "PEFT"]  # LORA is the same tag as LoRA
