"""The seed file parses to exactly its 10 questions, each with the right metadata."""

from __future__ import annotations

import datetime as dt

import pytest

from app.content.model import AskedRecord, ParsedFile
from app.content.parser import parse_text
from tests.conftest import SEED

D = dt.date
# (title, company, role, stage, date, tags, section) for each question, in file order.
EXPECTED = [
    (
        "Prompt Tuning、Prefix Tuning、LoRA 和 Adapter，结合实际场景谈优劣",
        "美团", "大模型算法工程师", "一面", D(2025, 8, 31),
        ["Prompt Tuning", "Prefix Tuning", "LoRA", "Adapter", "PEFT", "参数高效微调"],
        "PEFT (Parameter-Efficient Fine-Tuning)",
    ),
    ("LORA的原理", "阿里国际", "算法工程师", "一面", D(2025, 8, 1),
     ["LORA", "PEFT", "参数高效微调"], "PEFT (Parameter-Efficient Fine-Tuning)"),
    ("啥是矩阵的秩？秩和LORA有啥关系？", "快手", "算法工程师", "一面", D(2025, 9, 1),
     ["LORA", "PEFT", "参数高效微调"], "PEFT (Parameter-Efficient Fine-Tuning)"),
    ("LORA矩阵是如何初始化的？", "阿里国际", "算法工程师", "一面", D(2025, 8, 1),
     ["LORA", "PEFT", "参数高效微调"], "PEFT (Parameter-Efficient Fine-Tuning)"),
    ("QLORA相对于LORA改进是什么？", "阿里国际", "算法工程师", "一面", D(2025, 8, 1),
     ["QLORA", "LORA", "PEFT", "参数高效微调"], "PEFT (Parameter-Efficient Fine-Tuning)"),
    ("为什么在参数高效微调中使用低秩矩阵分解？", "阿里", "算法工程师", "一面", D(2025, 8, 14),
     ["LORA", "PEFT", "参数高效微调"], "PEFT (Parameter-Efficient Fine-Tuning)"),
    ("MLA 和 LoRA 有哪些相似之处？", "阿里", "算法工程师", "一面", D(2025, 8, 26),
     ["MLA", "LoRA", "参数高效"], "PEFT (Parameter-Efficient Fine-Tuning)"),
    (
        "简要介绍一下 SFT的核心流程，以及数据集的构建策略，SFT之后常见的 Post-Training 还有哪些？"
        "它们之间的目的有何区别？",
        "淘天", "Agent智能体", "一面", D(2025, 8, 26), ["SFT", "数据集", "Post-Training"],
        "Full-Size Fine-Tuning",
    ),
    ("指令微调（Instruct-tuning） 和 提示学习（Prompting）的区别是什么？", "阿里", "算法工程师",
     "一面", D(2025, 8, 14), ["指令微调", "提示学习", "LLM"], "Full-Size Fine-Tuning"),
    ("LLM 训练中遇到 Loss 突增如何解决？", "同花顺", "大模型算法工程师", "一面", D(2025, 4, 15),
     ["训练稳定性", "Loss 突增"], "Full-Size Fine-Tuning"),
]  # fmt: skip


@pytest.fixture(scope="module")
def seed() -> ParsedFile:
    return parse_text(SEED.read_text(encoding="utf-8"), path="llm-sft.md")


def test_seed_has_exactly_its_ten_questions_and_no_problems(seed: ParsedFile) -> None:
    assert len(seed.questions) == 10
    assert seed.diagnostics == []
    assert seed.title == "LLM SFT Stage"
    assert seed.description == "本章节记录 LLMs SFT训练相关工具的面试题目。"


@pytest.mark.parametrize("index", range(10))
def test_each_seed_question_has_its_metadata(seed: ParsedFile, index: int) -> None:
    title, company, role, stage, date, tags, section = EXPECTED[index]
    question = seed.questions[index]
    assert question.title == title
    assert question.asked == [AskedRecord(company=company, role=role, stage=stage, date=date)]
    assert question.tags == tags
    assert question.section == section


def test_seed_answers_takeaways_terms_and_links(seed: ParsedFile) -> None:
    by_title = {q.title: q for q in seed.questions}
    first = seed.questions[0]
    assert first.reference_links == ["https://zhuanlan.zhihu.com/p/675231376"]
    assert first.takeaway is not None and first.takeaway.startswith(
        "**总结**：Prompt Tuning 极简轻量"
    )
    # Short bold phrases are key terms; bold labels ("**方法**：") are not.
    assert {"大规模任务快速适配", "成千上万小任务"} <= set(first.key_terms)
    # A bold line is a heading, not a term; a whole sentence is not a term either.
    assert not {"Prompt Tuning", "Prefix Tuning", "Adapter"} & set(first.key_terms)
    assert "需要更强控制力的生成类任务" not in first.key_terms
    assert "方法" not in first.key_terms and "总结" not in first.key_terms
    # The only question without a <mark> takeaway.
    assert by_title["LORA的原理"].takeaway is None
    assert sum(q.takeaway is not None for q in seed.questions) == 9
    # Answers stop before the next heading and keep their math as written.
    rank = by_title["啥是矩阵的秩？秩和LORA有啥关系？"]
    assert r"\(W \in \mathbb{R}^{d \times k}\)" in rank.answer_md
    assert "### Q." not in rank.answer_md
    assert rank.answer_md.endswith("</mark>")
    assert "4 倍" in by_title["QLORA相对于LORA改进是什么？"].key_terms


def test_seed_lines_point_at_the_headings(seed: ParsedFile) -> None:
    lines = SEED.read_text(encoding="utf-8").split("\n")
    for question in seed.questions:
        assert lines[question.line - 1].startswith("### Q.")
        assert question.title in lines[question.line - 1]


def test_seed_ids_are_stable_and_unique(seed: ParsedFile) -> None:
    ids = [q.id for q in seed.questions]
    assert len(set(ids)) == 10
    again = parse_text(SEED.read_text(encoding="utf-8"), path="llm-sft.md")
    assert [q.id for q in again.questions] == ids
    assert all(i.startswith("llm-sft-") for i in ids)
