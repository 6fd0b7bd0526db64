"""Building quiz items from the seed bank: each type, its fallbacks, and determinism."""

from __future__ import annotations

import json
import random

import pytest

from app.content.render import render_inline
from app.quiz.build import ALL_TYPES, BLANK_HTML, ItemSpec, QuestionType, QuizQuestion, build_items
from app.quiz.grade import plain_text
from tests.quiz import seed_questions

BANK = seed_questions()
BY_TITLE = {q.title: q for q in BANK}
NO_TAKEAWAY = BY_TITLE["LORA的原理"]
RANK = BY_TITLE["啥是矩阵的秩？秩和LORA有啥关系？"]
FIRST = BANK[0]  # Prompt Tuning / Prefix Tuning / LoRA / Adapter
MLA = BY_TITLE["MLA 和 LoRA 有哪些相似之处？"]
NO_TERMS = BY_TITLE["为什么在参数高效微调中使用低秩矩阵分解？"]
LOSS = BY_TITLE["LLM 训练中遇到 Loss 突增如何解决？"]  # "梯度裁剪" is in its takeaway
MATH_TEXT = set("$\\{}^=")  # what formula source holds


def one(question: QuizQuestion, types: tuple[QuestionType, ...], seed: int = 0) -> ItemSpec:
    [item] = build_items([question], BANK, types, random.Random(seed))
    return item


def synthetic(
    qid: str, takeaway: str | None, terms: tuple[str, ...] = (), **kw: object
) -> QuizQuestion:
    fields: dict[str, object] = {"title": qid, "chapter_id": 1, "tags": ()} | kw
    return QuizQuestion(id=qid, takeaway=takeaway, key_terms=terms, **fields)  # type: ignore[arg-type]


def test_one_item_per_selected_question_in_order_and_json_payloads() -> None:
    items = build_items(BANK, BANK, ALL_TYPES, random.Random(1))
    assert [i.question_id for i in items] == [q.id for q in BANK]
    for item in items:
        assert item.type in ALL_TYPES
        json.dumps(item.payload)  # stored as JSON by the service


def test_recall_lists_the_key_terms_once_each_without_formulas() -> None:
    item = one(FIRST, ("recall",))
    assert item.type == "recall"
    assert item.payload == {"key_terms": list(FIRST.key_terms)}
    # "低秩矩阵 $A \cdot B$" can't be matched against typed prose.
    assert "低秩矩阵 $A \\cdot B$" in MLA.key_terms
    terms = one(MLA, ("recall",)).payload["key_terms"]
    assert terms == ["低维潜在空间", "低秩表示/压缩", "推理加速、显存压缩"]
    # Short bold terms only: no bold heading ("**Prompt Tuning**" alone on its line),
    # no label ("**方法**："), no bold sentence.
    assert not {"Prompt Tuning", "方法", "优点"} & set(FIRST.key_terms)
    assert "大规模任务快速适配" in FIRST.key_terms


@pytest.mark.parametrize("question", [q for q in BANK if q.takeaway], ids=lambda q: q.id)
def test_takeaway_has_four_distinct_choices_and_one_is_right(question: QuizQuestion) -> None:
    for seed in range(5):
        item = one(question, ("takeaway",), seed)
        assert item.type == "takeaway"
        choices = item.payload["choices"]
        assert len(choices) == 4
        assert len({c["html"] for c in choices}) == 4
        assert len({c["question_id"] for c in choices}) == 4
        own = [i for i, c in enumerate(choices) if c["question_id"] == question.id]
        assert own == [item.payload["answer"]]
        assert question.takeaway is not None
        assert choices[own[0]]["html"] == render_inline(question.takeaway)


def test_takeaway_distractors_share_a_topic_tag_when_enough_do() -> None:
    by_id = {q.id: q for q in BANK}
    # Five other questions with a takeaway share "lora"/"peft" with this one.
    for seed in range(10):
        item = one(RANK, ("takeaway",), seed)
        for choice in item.payload["choices"]:
            assert set(by_id[choice["question_id"]].tags) & set(RANK.tags)


def test_takeaway_distractors_then_the_same_chapter_then_any() -> None:
    target = synthetic("t", "目标", tags=("x",), chapter_id=1)
    tagged = synthetic("a", "同标签", tags=("x",), chapter_id=9)
    chapter = [synthetic(f"c{i}", f"同章节{i}", chapter_id=1) for i in range(2)]
    elsewhere = [synthetic(f"e{i}", f"别处{i}", chapter_id=2) for i in range(3)]
    twin = synthetic("z", "同标签", tags=("x",))  # same text as "a": never shown twice
    pool = [target, tagged, *chapter, *elsewhere, twin]
    for seed in range(10):
        [item] = build_items([target], pool, ("takeaway",), random.Random(seed))
        ids = {c["question_id"] for c in item.payload["choices"]}
        assert len(ids & {"a", "z"}) == 1 and {"t", "c0"} <= ids and "c1" in ids


SEVERAL = synthetic(
    "several",
    "**总结**：先降学习率，再用梯度裁剪；梯度裁剪之后看混合精度 $\\text{fp16}$ 是否溢出。",
    ("先降学习率", "梯度裁剪", "混合精度", "数据清洗"),
)


WITH_TAKEAWAY = [q for q in BANK if q.takeaway]


def check_cloze(question: QuizQuestion, item: ItemSpec) -> str:
    """The blank is one occurrence of a substring of the takeaway, never math, and
    putting it back gives the takeaway as rendered; returns the answer."""
    assert question.takeaway is not None
    whole = render_inline(question.takeaway)
    assert item.type == "cloze"
    html, answer = item.payload["html"], item.payload["answer"]
    assert html.count(BLANK_HTML) == 1
    assert answer in question.takeaway and answer.strip() != question.takeaway.strip()
    assert not MATH_TEXT & set(answer)
    assert item.payload["hint_length"] == len(answer)
    # Exactly one occurrence went: putting the term back gives the takeaway itself.
    assert html.count(answer) == whole.count(answer) - 1
    assert html.replace(BLANK_HTML, answer) == whole
    # At least 40% of the takeaway's text stays visible.
    visible = len(plain_text(html.replace(BLANK_HTML, "")))
    assert visible >= 0.4 * len(plain_text(whole))
    return str(answer)


@pytest.mark.parametrize("question", [*WITH_TAKEAWAY, SEVERAL], ids=lambda q: q.id)
def test_cloze_blanks_one_occurrence_of_a_term_of_the_takeaway(question: QuizQuestion) -> None:
    answers = {check_cloze(question, one(question, ("cloze",), seed)) for seed in range(12)}
    if question is SEVERAL:  # the rng varies the term; one not in the takeaway never
        assert answers == {"先降学习率", "梯度裁剪", "混合精度"}


def test_most_seed_questions_offer_a_cloze() -> None:
    items = build_items(BANK, BANK, ("cloze",), random.Random(0))
    assert len(items) >= 7 and {i.type for i in items} == {"cloze"}
    # Every question with a takeaway; only the one without is left out.
    assert [i.question_id for i in items] == [q.id for q in WITH_TAKEAWAY]
    # With recall ticked too, all are asked: none is lost, none crashes.
    for seed in range(5):
        mixed = build_items(BANK, BANK, ("recall", "cloze"), random.Random(seed))
        assert [i.question_id for i in mixed] == [q.id for q in BANK]


def test_the_authors_terms_come_before_salient_ones() -> None:
    # A key term in the takeaway, or a bold span of it, is always the blank.
    for seed in range(8):
        assert one(LOSS, ("cloze",), seed).payload["answer"] == "梯度裁剪"
        assert one(MLA, ("cloze",), seed).payload["answer"] == "在低秩子空间中高效表示"
    # Otherwise a salient term: a quoted phrase, a Latin name, a term the title names
    # too; never the bold label "**总结**" and never a clause.
    seen = {one(FIRST, ("cloze",), s).payload["answer"] for s in range(30)}
    assert {"Prompt Tuning", "LoRA", "加前缀影响注意力"} <= seen and "总结" not in seen
    titled = {one(NO_TERMS, ("cloze",), s).payload["answer"] for s in range(30)}
    assert "低秩矩阵分解" in titled and titled <= {"低秩矩阵分解", "低秩矩阵", "高效微调"}
    for question in WITH_TAKEAWAY:
        for seed in range(6):
            answer = one(question, ("cloze",), seed).payload["answer"]
            cjk = sum("\u4e00" <= c <= "\u9fff" for c in answer)
            assert (cjk and len(answer) <= 12) or (not cjk and len(answer.split()) <= 3)


def test_the_same_seed_gives_the_same_clozes() -> None:
    runs = [build_items(BANK, BANK, ("cloze",), random.Random(s)) for s in (7, 7, 8, 9)]
    assert runs[0] == runs[1]
    assert len({tuple(i.payload["answer"] for i in r) for r in runs[1:]}) > 1


@pytest.mark.parametrize(
    "takeaway",
    [
        "更新 $W = BA$ 时 **$\\Delta W$** 的秩很低，“$r$” 很小",
        "LoRA 的更新 W = BA 很简单，$\\mathrm{QLoRA}$ 更省显存",
        "低秩分解的核心是 \\(\\mathrm{LoRA}\\) 和 $$\\text{低秩矩阵分解}$$",
    ],
)
def test_a_formula_is_never_blanked(takeaway: str) -> None:
    question = synthetic("math", takeaway, ("W", "QLoRA", "BA"), title="低秩矩阵分解为何有效")
    answers = set()
    for seed in range(12):
        for item in build_items([question], [question], ("cloze",), random.Random(seed)):
            answers.add(check_cloze(question, item))
    assert not answers & {"W", "BA", "QLoRA", "r", "\\Delta W", "\\mathrm{LoRA}"}
    assert all("$" not in a and "\\" not in a for a in answers)


def test_a_blank_leaves_at_least_forty_percent_of_the_takeaway() -> None:
    for takeaway, terms in [
        ("梯度裁剪", ("梯度裁剪",)),  # the whole takeaway
        ("**在低秩子空间中高效表示**。", ()),  # a bold span that is nearly all of it
        ("“做得更符合人类想要的样子”", ()),
        ("就是 Prompt Tuning", ()),
    ]:
        question = synthetic("short", takeaway, terms)
        assert build_items([question], [question], ("cloze",), random.Random(0)) == []
    fits = synthetic("ok", "“照着做”是 SFT 的核心", ())
    assert {one(fits, ("cloze",), s).payload["answer"] for s in range(12)} == {"照着做", "SFT"}


def test_cloze_skips_math_and_parts_of_words_and_folds_width_and_case() -> None:
    math_only = synthetic("m", "更新 $W$ 即可", ("W",))
    assert build_items([math_only], [math_only], ("cloze",), random.Random(0)) == []
    inner = synthetic("w", "QLoRA 比 LoRA 更省显存", ("lora",))
    item = one(inner, ("cloze",))
    assert item.payload["answer"] == "LoRA"
    assert item.payload["html"].startswith("QLoRA 比 " + BLANK_HTML)
    wide = synthetic("f", "用 ＬｏＲＡ 微调大模型", ("LoRA",))
    item = one(wide, ("cloze",))
    assert (item.payload["answer"], item.payload["hint_length"]) == ("ＬｏＲＡ", 4)
    assert item.payload["html"] == f"用 {BLANK_HTML} 微调大模型"


def test_cloze_prefers_terms_of_two_to_twenty_characters() -> None:
    question = synthetic("p", "A 和 低秩分解 都在这里", ("A", "低秩分解"))
    assert {one(question, ("cloze",), s).payload["answer"] for s in range(10)} == {"低秩分解"}


def test_a_question_without_takeaway_never_gets_takeaway_or_cloze() -> None:
    for seed in range(20):
        item = one(NO_TAKEAWAY, ALL_TYPES, seed)
        assert item.type == "recall"
        assert item.payload == {"key_terms": list(NO_TAKEAWAY.key_terms)}


def test_a_question_no_ticked_type_fits_is_left_out() -> None:
    # Only cloze ticked, no takeaway to blank: the question is skipped, never recall.
    assert build_items([NO_TAKEAWAY], BANK, ("cloze",), random.Random(0)) == []
    # Recall ticked: it can always be asked, self-graded (here with no key terms).
    assert one(NO_TAKEAWAY, ("recall", "cloze")) == ItemSpec(
        NO_TAKEAWAY.id, "recall", {"key_terms": []}
    )
    bare = synthetic("b", None)
    assert build_items([bare], [bare], ("takeaway",), random.Random(0)) == []
    assert build_items([bare], [bare], ("recall",), random.Random(0)) == [
        ItemSpec("b", "recall", {"key_terms": []})
    ]
    # Too few other takeaways for four choices, and only the takeaway ticked.
    small = [synthetic(f"s{i}", f"要点{i}", ("要点",)) for i in range(3)]
    assert build_items(small[:1], small, ("takeaway",), random.Random(0)) == []


@pytest.mark.parametrize(
    "types",
    [("takeaway",), ("cloze",), ("truefalse",), ("takeaway", "cloze"), ("recall", "takeaway")],
)
def test_unticked_types_never_appear(types: tuple[QuestionType, ...]) -> None:
    for seed in range(10):
        items = build_items(BANK, BANK, types, random.Random(seed))
        assert {i.type for i in items} <= set(types)


def test_the_limit_counts_built_items_and_skips_the_rest() -> None:
    items = build_items(BANK, BANK, ("takeaway",), random.Random(1), limit=3)
    assert len(items) == 3 and {i.type for i in items} == {"takeaway"}
    assert NO_TAKEAWAY not in BANK[:4] or NO_TAKEAWAY.id not in {i.question_id for i in items}


def test_requested_types_are_honoured_when_they_can_be_built() -> None:
    items = build_items(BANK, BANK, ("takeaway", "cloze"), random.Random(4))
    by_id = {i.question_id: i.type for i in items}
    assert NO_TAKEAWAY.id not in by_id
    assert set(by_id.values()) <= {"takeaway", "cloze"}


def test_the_same_seed_gives_the_same_items_whatever_the_pool_order() -> None:
    first = build_items(BANK, BANK, ALL_TYPES, random.Random(42))
    assert build_items(BANK, BANK, ALL_TYPES, random.Random(42)) == first
    assert build_items(BANK, BANK[::-1], ALL_TYPES, random.Random(42)) == first
    kinds = {
        tuple(i.type for i in build_items(BANK, BANK, ALL_TYPES, random.Random(s)))
        for s in range(8)
    }
    assert len(kinds) > 1  # the seed matters


def test_takeaway_distractors_come_from_the_most_related_questions() -> None:
    me = synthetic("me", "我的要点", tags=("lora", "peft"), chapter_id=1)
    twins = [
        synthetic(f"t{i}", f"同主题要点{i}", tags=("lora", "peft"), chapter_id=2) for i in range(3)
    ]
    cousins = [synthetic(f"c{i}", f"相邻要点{i}", tags=("lora",), chapter_id=1) for i in range(3)]
    strangers = [synthetic(f"s{i}", f"无关要点{i}", tags=("rlhf",), chapter_id=1) for i in range(5)]
    pool = [me, *strangers, *cousins, *twins]
    for seed in range(20):
        item = one_of(me, pool, seed)
        ids = {c["question_id"] for c in item.payload["choices"]} - {"me"}
        assert ids == {"t0", "t1", "t2"}, seed  # both tags shared beats one tag
    # Two twins only: the third comes from the questions sharing one tag, in the same
    # chapter, never from an unrelated one.
    for seed in range(20):
        item = one_of(me, [me, *strangers, *cousins, *twins[:2]], seed)
        ids = {c["question_id"] for c in item.payload["choices"]} - {"me"}
        assert {"t0", "t1"} < ids and not ids & {s.id for s in strangers}, seed


def one_of(question: QuizQuestion, pool: list[QuizQuestion], seed: int) -> ItemSpec:
    [item] = build_items([question], pool, ("takeaway",), random.Random(seed))
    return item
