"""Quiz services: create a quiz over a slice of the bank, answer its items (saved as
they go, so a quiz resumes), check a written answer. Results: ``app.quiz.results``.
Keyword-only; they own the SQL.

When the user's ``quiz_feeds_reviews`` setting is on (the default), a quiz answer that
is not right feeds the question's flashcard, recorded in the review log with
``source="quiz"``: a wrong or empty answer counts as Again (the card is relearned); a
near miss (a cloze one character off) counts as Hard, so a slip never resets the card.
A right answer leaves the card alone (a quiz is not a scheduled review).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import Float, cast, func, select, update
from sqlalchemy.orm import Session

from app.claims.service import claim_views
from app.content.filters import QuestionFilter, question_conditions
from app.errors import Conflict, NotFound, Unprocessable
from app.i18n import gettext as _
from app.i18n import mark as N_
from app.models import Card, Question, QuestionTag, Quiz, QuizItem, Tag, User
from app.quiz.build import ALL_TYPES, ClaimFact, QuestionType, QuizQuestion, build_items
from app.quiz.grade import (
    Grade,
    grade_cloze,
    grade_recall,
    grade_takeaway,
    grade_truefalse,
    recall_coverage,
)
from app.study import review

Focus = Literal["all", "due_soon", "weakest"]
FOCUSES: tuple[Focus, ...] = ("all", "due_soon", "weakest")
MAX_QUESTIONS = 50
DUE_SOON = dt.timedelta(days=7)
QUIZ_SOURCE = "quiz"


@dataclass(frozen=True)
class QuizSpec:
    """How a quiz's slice is chosen."""

    flt: QuestionFilter
    focus: Focus = "all"
    count: int = 10
    types: tuple[QuestionType, ...] = ALL_TYPES

    def to_dict(self) -> dict[str, Any]:
        filters = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.flt).items()}
        return {
            "filter": filters,
            "focus": self.focus,
            "count": self.count,
            "types": list(self.types),
        }


def check_spec(spec: QuizSpec) -> None:
    if spec.focus not in FOCUSES:
        raise Unprocessable(
            N_("focus %(focus)r is not one of %(allowed)s"),
            field="focus",
            focus=spec.focus,
            allowed=", ".join(FOCUSES),
        )
    if not 1 <= spec.count <= MAX_QUESTIONS:
        raise Unprocessable(
            N_("count %(count)s must be between 1 and %(most)s"),
            field="count",
            count=spec.count,
            most=MAX_QUESTIONS,
        )
    unknown = [t for t in spec.types if t not in ALL_TYPES]
    if unknown or not spec.types:
        raise Unprocessable(
            N_("types %(types)r must be some of %(allowed)s"),
            field="types",
            types=list(spec.types),
            allowed=", ".join(ALL_TYPES),
        )


def _candidates(session: Session, user: User, spec: QuizSpec, now: dt.datetime) -> list[str]:
    """Question ids in the slice, in the order the focus asks for."""
    conditions = question_conditions(spec.flt)
    if spec.focus == "due_soon":
        rows = session.scalars(
            select(Card.question_id)
            .join(Question, Question.id == Card.question_id)
            .where(Card.user_id == user.id, Card.due <= now + DUE_SOON, *conditions)
            .order_by(Card.due)
        )
        return list(rows)
    ids = list(
        session.scalars(
            select(Question.id).where(*conditions).order_by(Question.source_file, Question.position)
        )
    )
    if spec.focus == "all":
        return ids
    # Weakest: lowest quiz accuracy, then most lapses. Questions with no wrong quiz
    # answer and no lapse have shown no weakness yet and are left out.
    accuracy: dict[str, float] = {
        qid: float(acc)
        for qid, acc in session.execute(
            select(QuizItem.question_id, func.avg(cast(QuizItem.correct, Float)))
            .join(Quiz, Quiz.id == QuizItem.quiz_id)
            .where(Quiz.user_id == user.id, QuizItem.correct.is_not(None))
            .group_by(QuizItem.question_id)
        )
    }
    lapses: dict[str, int] = {
        qid: int(n)
        for qid, n in session.execute(
            select(Card.question_id, Card.lapses).where(Card.user_id == user.id, Card.lapses > 0)
        )
    }
    weak = [q for q in ids if q in lapses or accuracy.get(q, 1.0) < 1.0]
    return sorted(weak, key=lambda q: (accuracy.get(q, 1.0), -lapses.get(q, 0)))


def _bank(session: Session) -> dict[str, QuizQuestion]:
    """Every active question as the builder needs it (the pool for distractors)."""
    tags: dict[str, list[str]] = {}
    for qid, key in session.execute(
        select(QuestionTag.question_id, Tag.key)
        .join(Tag, Tag.id == QuestionTag.tag_id)
        .order_by(QuestionTag.question_id, QuestionTag.position)
    ):
        tags.setdefault(qid, []).append(key)
    rows = session.execute(
        select(
            Question.id, Question.title, Question.chapter_id, Question.takeaway, Question.key_terms
        ).where(Question.archived_at.is_(None))
    )
    facts: dict[str, list[ClaimFact]] = {}
    for view in claim_views(session=session):
        if view.status in ("supported", "refuted"):
            fact = ClaimFact(view.id, view.quote, view.status == "supported", view.explanation)
            facts.setdefault(view.question_id, []).append(fact)
    return {
        qid: QuizQuestion(
            id=qid,
            title=title,
            chapter_id=chapter_id,
            tags=tuple(tags.get(qid, ())),
            takeaway=takeaway,
            key_terms=tuple(key_terms),
            claims=tuple(facts.get(qid, ())),
        )
        for qid, title, chapter_id, takeaway, key_terms in rows
    }


def create_quiz(
    *, session: Session, user: User, spec: QuizSpec, now: dt.datetime, seed: int | None = None
) -> Quiz:
    """A new quiz over ``spec``'s slice: never the same question twice, fewer questions
    than asked when the slice is smaller (the page says so). ``seed`` makes it repeatable."""
    check_spec(spec)
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    rng = random.Random(seed)
    candidates = _candidates(session, user, spec, now)
    if spec.focus == "all":
        candidates = rng.sample(candidates, len(candidates))
    if not candidates:
        raise Unprocessable(_("no question matches this slice; widen the filters"), field="filter")
    pool = _bank(session)
    items = build_items(
        [pool[q] for q in candidates], list(pool.values()), spec.types, rng, limit=spec.count
    )
    if not items:
        raise Unprocessable(
            _("no question of this slice can be asked in the kinds you ticked; tick more kinds"),
            field="types",
        )
    quiz = Quiz(
        user_id=user.id,
        created_at=now,
        seed=seed,
        spec=spec.to_dict(),
        feeds_reviews=user.quiz_feeds_reviews,
    )
    quiz.items = [
        QuizItem(position=i, question_id=item.question_id, type=item.type, payload=item.payload)
        for i, item in enumerate(items)
    ]
    session.add(quiz)
    session.commit()
    return quiz


def get_quiz(*, session: Session, user: User, quiz_id: int) -> Quiz:
    quiz = session.get(Quiz, quiz_id)
    if quiz is None or quiz.user_id != user.id:
        raise NotFound(N_("quiz %(id)s does not exist"), id=quiz_id)
    return quiz


def current_item(quiz: Quiz) -> QuizItem | None:
    """The first unanswered item: where a closed tab resumes."""
    return next((i for i in quiz.items if i.answered_at is None), None)


def item_at(quiz: Quiz, position: int) -> QuizItem:
    if not 0 <= position < len(quiz.items):
        raise NotFound(
            N_("quiz %(id)s has no item %(position)s"),
            field="position",
            id=quiz.id,
            position=position,
        )
    return quiz.items[position]


def check_recall(
    *, session: Session, user: User, quiz_id: int, position: int, text: str
) -> tuple[tuple[str, bool], ...]:
    """Which key terms of the reference answer a written answer covers."""
    item = item_at(get_quiz(session=session, user=user, quiz_id=quiz_id), position)
    if item.type != "recall":
        raise Unprocessable(
            N_("item %(position)s is a %(type)s question"),
            field="position",
            position=position,
            type=item.type,
        )
    terms: Sequence[str] = item.payload.get("key_terms", [])
    return recall_coverage(text, terms)


def answer_item(
    *,
    session: Session,
    user: User,
    quiz_id: int,
    position: int,
    response: dict[str, Any],
    now: dt.datetime,
    duration_ms: int | None = None,
) -> QuizItem:
    """Grade and save one answer. Answering an answered item changes nothing."""
    quiz = get_quiz(session=session, user=user, quiz_id=quiz_id)
    item = item_at(quiz, position)
    if item.answered_at is not None:
        return item
    grade = grade_response(item, response)
    # Guarded on "not answered yet": of two concurrent posts (double click, two tabs)
    # only the first is recorded; the other gets the stored answer back.
    recorded = session.execute(
        update(QuizItem)
        .where(QuizItem.id == item.id, QuizItem.answered_at.is_(None))
        .values(
            response=response,
            verdict=grade.verdict,
            correct=grade.correct,
            answered_at=now,
            duration_ms=duration_ms,
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not recorded:
        session.rollback()
        session.refresh(item)
        return item
    session.commit()
    for each in quiz.items:  # the UPDATE bypassed the loaded rows: read them again
        session.expire(each)
    if current_item(quiz) is None and quiz.finished_at is None:
        quiz.finished_at = now
        session.commit()
    if not grade.correct and quiz.feeds_reviews:
        version = review.current_version(session=session, user=user, question_id=item.question_id)
        try:
            review.rate(
                session=session,
                user=user,
                question_id=item.question_id,
                rating=rating_for(grade),
                version=version,
                duration_ms=duration_ms,
                now=now,
                source=QUIZ_SOURCE,
            )
        except (Conflict, NotFound):
            session.rollback()  # archived or rated meanwhile: the answer itself is kept
    return item


def rating_for(grade: Grade) -> int:
    """The flashcard rating a quiz answer that is not right stands for: Hard (2) for a
    near miss, Again (1) for anything else."""
    return 2 if grade.verdict == "near" else 1


def grade_response(item: QuizItem, response: dict[str, Any]) -> Grade:
    """Grade ``response`` for ``item`` by its type (raises on a malformed response)."""
    if item.type in ("takeaway", "truefalse"):
        choice = response.get("choice")
        if choice is not None and (isinstance(choice, bool) or not isinstance(choice, int)):
            raise Unprocessable(
                N_("choice %(choice)r must be a number"), field="choice", choice=choice
            )
        if item.type == "truefalse":
            return grade_truefalse(item.payload, choice)
        return grade_takeaway(item.payload, choice)
    text = response.get("text", "")
    if not isinstance(text, str):
        raise Unprocessable(N_("text must be a string"), field="text")
    if item.type == "cloze":
        return grade_cloze(item.payload, text)
    self_grade = response.get("self_grade")
    if self_grade is not None and not isinstance(self_grade, bool):
        raise Unprocessable(
            N_("self_grade %(value)r must be true or false"), field="self_grade", value=self_grade
        )
    return grade_recall(item.payload, text, self_grade)
