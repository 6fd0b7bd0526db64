"""The metadata line's pieces: round -> role + stage, dates, tags, tag spellings."""

from __future__ import annotations

import datetime as dt

import pytest

from app.content.metadata import looks_like_metadata, read_date, split_round, split_tags
from app.content.tags import display_name, fold, tag_key


@pytest.mark.parametrize(
    ("text", "role", "stage"),
    [
        ("大模型算法工程师 一面", "大模型算法工程师", "一面"),
        ("算法工程师二面", "算法工程师", "二面"),
        ("Agent智能体 一面", "Agent智能体", "一面"),
        ("后端 hr面", "后端", "HR面"),
        ("算法工程师 1面", "算法工程师", "一面"),
        ("终面", None, "终面"),
        ("笔试", None, "笔试"),
        ("算法工程师", "算法工程师", None),
        (None, None, None),
    ],
)
def test_round_splits_into_role_and_stage(
    text: str | None, role: str | None, stage: str | None
) -> None:
    assert split_round(text) == (role, stage)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-08-31", dt.date(2025, 8, 31)),
        ("2025-9-2", dt.date(2025, 9, 2)),
        ("2025/09/02", dt.date(2025, 9, 2)),
        ("2025.9.2", dt.date(2025, 9, 2)),
        ("2025年9月2日", dt.date(2025, 9, 2)),
    ],
)
def test_dates(text: str, expected: dt.date) -> None:
    assert read_date(text) == (expected, None)


@pytest.mark.parametrize("text", ["2025-02-30", "2025-09", "last week"])
def test_bad_dates_are_unknown_and_say_why(text: str) -> None:
    date, problem = read_date(text)
    assert date is None
    assert problem is not None and text in problem.english


def test_tags_split_on_any_comma_and_drop_unknowns() -> None:
    assert split_tags("[LoRA, PEFT，参数高效微调、 None]") == ["LoRA", "PEFT", "参数高效微调"]
    assert split_tags("LoRA") == ["LoRA"]
    assert split_tags("[]") == []


def test_tag_spellings_fold_case_and_width() -> None:
    assert tag_key("LORA") == tag_key("LoRA") == tag_key("ＬｏＲＡ")
    assert tag_key("QLORA") == tag_key("QLoRA")
    assert tag_key("Prompt  Tuning") == tag_key("prompt tuning")
    assert tag_key("LoRA") != tag_key("QLoRA")
    assert display_name(["LORA", "LoRA", "LoRA"]) == "LoRA"
    assert display_name(["LORA", "LoRA"]) == "LORA"  # a tie goes to the first seen


def test_search_text_folds_every_kind_of_space_to_one() -> None:
    """Long text (an answer's search text) folds as short text does: width, case, and
    each run of any Unicode space (ideographic, no-break, line and file separators...)
    to one space, none at the ends."""
    spaces = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + "\u3000"
    text = f"{spaces}ＬｏＲＡ{spaces}微调\x1c\u2028Rank{spaces}" * 40
    assert len(text) > 200  # not the memoised short path
    assert fold(text) == " ".join(["lora 微调 rank"] * 40)
    assert fold(f"{spaces}ＬｏＲＡ 微调{spaces}") == "lora 微调"  # short text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("> **Company**: 美团 | **Round**: 一面", True),
        ("**Company**: 美团", True),
        ("Company: 美团 Date: 2025-01-01", True),
        ("The company: 美团 is big", False),
        ("普通的一行", False),
    ],
)
def test_metadata_line_detection(line: str, expected: bool) -> None:
    assert looks_like_metadata(line) is expected
