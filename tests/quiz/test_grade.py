"""Grading: typed answers survive width, case, spaces and emphasis; one character off is
"near" (not counted); empty answers are "empty"; recall is self-graded with coverage."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.quiz.build import build_items
from app.quiz.grade import (
    _one_edit_apart,
    grade_cloze,
    grade_recall,
    grade_takeaway,
    normalize,
    recall_coverage,
)
from tests.quiz import seed_questions

LORA = {"html": "…", "answer": "LoRA", "hint_length": 4}


def test_normalize_folds_tag_spellings_width_case_spaces_and_emphasis() -> None:
    assert normalize("LORA") == normalize("LoRA") == normalize("ＬｏＲＡ") == "lora"
    assert normalize("ｌｏｒａ") == normalize(" Lo RA\t") == normalize("**LoRA**") == "lora"
    assert normalize("`Prompt_Tuning`") == normalize("prompt tuning") == "prompttuning"
    assert normalize("矩阵　的秩") == "矩阵的秩"  # an ideographic space is whitespace too


@pytest.mark.parametrize(
    "typed", ["LoRA", "lora", "LORA", "ＬｏＲＡ", "ｌｏｒａ", "  Lo RA  ", "**LoRA**"]
)
def test_cloze_right_answers_in_any_width_case_or_spacing(typed: str) -> None:
    grade = grade_cloze(LORA, typed)
    assert (grade.verdict, grade.correct, grade.expected) == ("correct", True, "LoRA")


@pytest.mark.parametrize("typed", ["LoRB", "LoR", "LoRAA", "ＬｏＲ", "Lo-RA", "oRA"])
def test_cloze_one_character_off_is_near_and_not_correct(typed: str) -> None:
    grade = grade_cloze(LORA, typed)
    assert (grade.verdict, grade.correct) == ("near", False)


@pytest.mark.parametrize("typed", ["QLoRAX", "Adapter", "LR", "ALoRB"])
def test_cloze_wrong_answers(typed: str) -> None:
    assert grade_cloze(LORA, typed).verdict == "wrong"


@pytest.mark.parametrize("typed", ["", "   ", "\n", "**"])
def test_cloze_empty_answers(typed: str) -> None:
    grade = grade_cloze(LORA, typed)
    assert (grade.verdict, grade.correct, grade.expected) == ("empty", False, "LoRA")


def test_cloze_built_from_the_seed_grades_its_own_answer() -> None:
    bank = seed_questions()
    # The clozes the seed allows: key terms, bold spans, quoted phrases, Latin names and
    # terms the title shares, Chinese and Latin, up to 12 characters or 3 words.
    items = []
    for seed in range(12):
        items += build_items(bank, bank, ("cloze",), random.Random(seed))
    answers = {item.payload["answer"] for item in items}
    assert {"梯度裁剪", "在低秩子空间中高效表示", "Prompt Tuning"} <= answers
    for item in items:
        answer = item.payload["answer"]
        assert grade_cloze(item.payload, answer).correct
        assert grade_cloze(item.payload, answer.upper() + " ").correct
        assert grade_cloze(item.payload, f"“{answer}”").correct  # quotes typed too
        assert grade_cloze(item.payload, answer[:-1]).verdict == "near"
        slip = answer[:-1] + ("错" if answer[-1] != "错" else "对")
        assert grade_cloze(item.payload, slip).verdict == "near"
        assert grade_cloze(item.payload, "完全不相干的答案").verdict == "wrong"
    long = {"answer": "在低秩子空间中高效表示"}
    assert grade_cloze(long, "在低秩子空间中高效表达").verdict == "near"
    assert grade_cloze(long, "在低秩空间中表示").verdict == "wrong"
    chinese = {"answer": "矩阵的秩"}
    assert grade_cloze(chinese, "矩阵的值").verdict == "near"
    assert grade_cloze(chinese, "矩阵 的秩").verdict == "correct"


def _levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


@given(st.text("abc", max_size=6), st.text("abc", max_size=6))
def test_one_edit_apart_is_levenshtein_distance_one(a: str, b: str) -> None:
    assert _one_edit_apart(a, b) == (_levenshtein(a, b) == 1)


def test_takeaway_grading() -> None:
    payload = {
        "choices": [
            {"question_id": "a", "html": "别的要点"},
            {"question_id": "b", "html": "<strong>总结</strong>：在 <math><mi>B</mi></math> 上"},
        ],
        "answer": 1,
    }
    right = grade_takeaway(payload, 1)
    assert (right.verdict, right.correct) == ("correct", True)
    assert right.expected == "总结：在 B 上"  # plain text for the results page
    assert grade_takeaway(payload, 0).verdict == "wrong"
    assert grade_takeaway(payload, 99).verdict == "wrong"
    assert grade_takeaway(payload, -1).verdict == "wrong"
    empty = grade_takeaway(payload, None)
    assert (empty.verdict, empty.correct, empty.expected) == ("empty", False, "总结：在 B 上")


def test_recall_coverage_folds_width_case_and_spaces() -> None:
    terms = ["LoRA (Low-Rank Adaptation)", "低秩结构", "Prompt Tuning", "全零"]
    answer = "ｌｏｒａ（low-rank adaptation）利用 低秩 结构；PROMPTTUNING 另说"
    assert recall_coverage(answer, terms) == (
        ("LoRA (Low-Rank Adaptation)", True),
        ("低秩结构", True),
        ("Prompt Tuning", True),
        ("全零", False),
    )
    assert recall_coverage("anything", []) == ()


def test_recall_is_self_graded() -> None:
    payload = {"key_terms": ["LoRA", "低秩"]}
    knew = grade_recall(payload, "LORA 用低秩矩阵", True)
    assert (knew.verdict, knew.correct) == ("correct", True)
    assert knew.covered == (("LoRA", True), ("低秩", True))
    assert knew.expected == "LoRA, 低秩"
    missed = grade_recall(payload, "ＬｏＲＡ", False)
    assert (missed.verdict, missed.correct, missed.covered) == (
        "wrong", False, (("LoRA", True), ("低秩", False))
    )  # fmt: skip
    assert grade_recall(payload, "", True).correct  # answered aloud: the user knew it
    assert grade_recall(payload, "  ", None).verdict == "empty"
    assert grade_recall(payload, "", False).verdict == "wrong"
    assert grade_recall(payload, "something", None).verdict == "wrong"
    bare = grade_recall({"key_terms": []}, "", None)
    assert (bare.verdict, bare.expected, bare.covered) == ("empty", "", ())
