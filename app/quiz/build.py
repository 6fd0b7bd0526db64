"""Quiz items built from what the parser extracted (takeaways and key terms), with no
language model and no database: the service passes questions in and stores the specs.

Four kinds of item:

- ``recall``: write the answer, then check which key terms it covers and self-grade;
- ``takeaway``: pick the question's takeaway among four, the others taken from the most
  related questions (most topic tags in common, then the same chapter, then any), so
  the wrong ones are about the same thing and can't be ruled out by topic alone;
- ``cloze``: the takeaway with one term blanked out (a key term or a bold span of the
  takeaway, else a salient term of it: see ``app.quiz.cloze``); type the term;
- ``truefalse``: a statement quoted from the answer whose claim a demo run supported or
  refuted (``app.claims``): true or false?

A question gets a kind only if that kind can be built from its content and the user
ticked it; a question none of the ticked kinds can be built for is left out (written
recall can always be built), so a quiz never shows an unticked kind or a broken item.
Everything random comes from the ``rng`` passed in, so a seed reproduces a quiz.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from app.content.render import render_inline
from app.content.tags import fold
from app.quiz.cloze import BLANK_HTML, MATH, cloze_options, pick_cloze
from app.quiz.grade import normalize

__all__ = [
    "ALL_TYPES",
    "BLANK_HTML",
    "ClaimFact",
    "ItemSpec",
    "QuestionType",
    "QuizQuestion",
    "build_items",
]

QuestionType = Literal["recall", "takeaway", "cloze", "truefalse"]
ALL_TYPES: tuple[QuestionType, ...] = ("recall", "takeaway", "cloze", "truefalse")

DISTRACTORS = 3


@dataclass(frozen=True)
class ClaimFact:
    """A claim of the question's answer with a measured verdict."""

    id: str
    quote: str  # markdown, as in the answer
    true: bool  # supported (True) or refuted (False) by its demo run
    explanation: str  # the evidence, with the run's figures


@dataclass(frozen=True)
class QuizQuestion:
    """One bank question, as the builder needs it."""

    id: str
    title: str
    chapter_id: int
    tags: tuple[str, ...]  # tag keys (folded), e.g. ("lora", "peft")
    takeaway: str | None  # the <mark> text, markdown
    key_terms: tuple[str, ...]  # bold phrases of the answer
    claims: tuple[ClaimFact, ...] = ()  # only supported or refuted ones


@dataclass(frozen=True)
class ItemSpec:
    question_id: str
    type: QuestionType
    payload: dict[str, Any]  # JSON-serialisable


def _distinct_terms(question: QuizQuestion) -> list[str]:
    """Key terms once each (by folded spelling), in the answer's order."""
    seen: set[str] = set()
    terms: list[str] = []
    for term in question.key_terms:
        key = fold(term)
        if key and key not in seen:
            seen.add(key)
            terms.append(term)
    return terms


def _recall_terms(question: QuizQuestion) -> list[str]:
    # A term holding a formula can't be matched against typed prose: it is left out.
    return [t for t in _distinct_terms(question) if not MATH.search(t) and normalize(t)]


def _distractor_tiers(
    question: QuizQuestion, pool: Sequence[QuizQuestion]
) -> list[list[QuizQuestion]]:
    """Other questions with a takeaway different from this one's, grouped by how related
    they are, most related first: by the number of topic tags shared, then the same
    chapter before another one."""
    own = fold(question.takeaway or "")
    tags = set(question.tags)
    groups: dict[tuple[int, bool], list[QuizQuestion]] = {}
    for other in pool:
        if other.id == question.id or not other.takeaway or not other.takeaway.strip():
            continue
        if fold(other.takeaway) == own:
            continue
        rank = (len(tags & set(other.tags)), other.chapter_id == question.chapter_id)
        groups.setdefault(rank, []).append(other)
    return [groups[rank] for rank in sorted(groups, reverse=True)]


def _can_build_takeaway(question: QuizQuestion, pool: Sequence[QuizQuestion]) -> bool:
    if not question.takeaway or not question.takeaway.strip():
        return False
    texts = {fold(o.takeaway or "") for tier in _distractor_tiers(question, pool) for o in tier}
    return len(texts) >= DISTRACTORS


def _build_takeaway(
    question: QuizQuestion, pool: Sequence[QuizQuestion], rng: random.Random
) -> dict[str, Any]:
    assert question.takeaway is not None  # checked by _can_build_takeaway
    seen = {fold(question.takeaway)}
    picked: list[QuizQuestion] = []
    for tier in _distractor_tiers(question, pool):
        rng.shuffle(tier)  # variety among equals; the tiers' order keeps relatedness
        for other in tier:
            key = fold(other.takeaway or "")
            if len(picked) < DISTRACTORS and key not in seen:
                seen.add(key)
                picked.append(other)
    options = [question, *picked]
    rng.shuffle(options)
    return {
        "choices": [
            {"question_id": o.id, "html": render_inline(o.takeaway or "")} for o in options
        ],
        "answer": options.index(question),
    }


def _build_truefalse(question: QuizQuestion, rng: random.Random) -> dict[str, Any]:
    fact = rng.choice(question.claims)
    return {
        "claim_id": fact.id,
        "statement_html": render_inline(fact.quote),
        "answer": int(fact.true),
        "explanation": fact.explanation,
    }


def _build_one(
    question: QuizQuestion,
    pool: Sequence[QuizQuestion],
    types: Sequence[QuestionType],
    rng: random.Random,
) -> ItemSpec | None:
    """An item of a random kind among ``types`` that can be built for ``question``;
    None when none can."""
    terms = _recall_terms(question)
    clozes = (
        cloze_options(question.takeaway, _distinct_terms(question), question.title)
        if "cloze" in types
        else []
    )
    buildable: dict[QuestionType, bool] = {
        "recall": bool(terms),
        "takeaway": "takeaway" in types and _can_build_takeaway(question, pool),
        "cloze": bool(clozes),
        "truefalse": bool(question.claims),
    }
    allowed = [t for t in ALL_TYPES if t in types and buildable[t]]
    if not allowed:
        if "recall" not in types:
            return None
        allowed = ["recall"]  # self-graded against the reference even with no key terms
    kind: QuestionType = rng.choice(allowed)
    payload: dict[str, Any]
    if kind == "takeaway":
        payload = _build_takeaway(question, pool, rng)
    elif kind == "cloze":
        payload = pick_cloze(clozes, rng)
    elif kind == "truefalse":
        payload = _build_truefalse(question, rng)
    else:
        payload = {"key_terms": terms}
    return ItemSpec(question_id=question.id, type=kind, payload=payload)


def build_items(
    selected: Sequence[QuizQuestion],
    pool: Sequence[QuizQuestion],
    types: Sequence[QuestionType],
    rng: random.Random,
    limit: int | None = None,
) -> list[ItemSpec]:
    """Items for ``selected``, in order, each of a random kind among ``types`` that can be
    built for it; questions none of ``types`` fits are skipped. At most ``limit`` items
    (the callers pass more candidates than they need, for the skipped ones)."""
    # The pool's order must not matter (a database returns rows in any order): sort it
    # so the same seed always draws the same distractors.
    by_id = {q.id: q for q in pool}
    ordered_pool = [by_id[k] for k in sorted(by_id)]
    items: list[ItemSpec] = []
    for question in selected:
        if limit is not None and len(items) >= limit:
            break
        item = _build_one(question, ordered_pool, types, rng)
        if item is not None:
            items.append(item)
    return items
