"""A user's own study data as one JSON file: export it, and import it into any database.

The file (``version`` 3)::

    {"format": "interview-lab-userdata", "version": 3, "exported_at": "...",
     "user": {settings}, "cards": [...], "review_logs": [...],
     "quizzes": [{..., "items": [...]}], "interviews": [...], "notes": [...],
     "mock_interviews": [{..., "attempts": [...]}]}

``notes`` (new in version 2; a version 1 file has none) holds the user's notes and own
answers and takeaways per question, as markdown (``app.study.notes``); their HTML is
rendered again on import. ``mock_interviews`` (new in version 3; older files have none)
holds the user's mock interviews with their answers, timings and grades
(``app.export.userdata_mock``); the interview from the plan a mock practises for is
named by its index in ``interviews``.

Records name questions by their ids, which are stable across databases that imported the
same bank; row ids are not exported. Datetimes are ISO 8601 in UTC. Card states are
``fsrs.Card.to_dict()`` as stored, so an imported card is due exactly when it was.
The format and its checks: ``app.export.userdata_file``.

**Importing** goes into the current user, in one transaction (all or nothing):

- it is refused (``Unprocessable``, naming the field) for invalid JSON, a file that is not
  ours (``format``), a version this code does not read (newer or unknown), or a record
  that does not validate;
- it replaces the user's study data and settings. A user who already has any (cards,
  reviews, quizzes, interviews, notes or mock interviews) must confirm with
  ``replace=True``; otherwise it is refused (``Conflict``) and nothing changes;
- records of questions this bank does not have are skipped and counted (the summary
  lists their ids): their cards, reviews and notes, their quiz items and mock interview
  attempts (a quiz's remaining items and a mock's remaining attempts are renumbered; a
  quiz or mock left empty is skipped). Everything else imports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from app.errors import Conflict
from app.export.records import Json, in_bank, iso
from app.export.userdata_file import (
    FORMAT,
    VERSION,
    NoteData,
    QuizData,
    UserData,
    parse_user_data,
)
from app.export.userdata_json import dumps, loads
from app.export.userdata_mock import clear_mocks, export_mocks, write_mocks
from app.i18n import mark as _
from app.models import (
    Card,
    Interview,
    MockInterview,
    Question,
    QuestionNote,
    Quiz,
    QuizItem,
    ReviewLog,
    User,
)
from app.study.notes import TEXTS, render_text

__all__ = [
    "FORMAT",
    "VERSION",
    "ImportSummary",
    "UserData",
    "dumps",
    "existing_counts",
    "export_user_data",
    "import_user_data",
    "loads",
    "parse_user_data",
]


@dataclass(frozen=True)
class ImportSummary:
    """What an import wrote, and what it skipped because the bank lacks the question."""

    cards: int
    review_logs: int
    quizzes: int
    interviews: int
    notes: int
    mock_interviews: int
    replaced: bool
    skipped_records: int
    unknown_questions: tuple[str, ...]


def export_user_data(*, session: Session, user: User, now: dt.datetime) -> Json:
    """The user's settings, cards, review log, quizzes, interviews, notes and mock
    interviews, as the file holds them (module docstring), in a stable order."""
    cards = session.scalars(
        select(Card).where(Card.user_id == user.id).order_by(Card.question_id)
    ).all()
    logs = session.scalars(
        select(ReviewLog)
        .where(ReviewLog.user_id == user.id)
        .order_by(ReviewLog.reviewed_at, ReviewLog.id)
    ).all()
    quizzes = session.scalars(
        select(Quiz)
        .where(Quiz.user_id == user.id)
        .options(selectinload(Quiz.items))
        .order_by(Quiz.created_at, Quiz.id)
    ).all()
    interviews = session.scalars(
        select(Interview).where(Interview.user_id == user.id).order_by(Interview.id)
    ).all()
    notes = session.scalars(
        select(QuestionNote)
        .where(QuestionNote.user_id == user.id)
        .order_by(QuestionNote.question_id)
    ).all()
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": iso(now),
        "user": {
            "username": user.username,
            "new_per_day": user.new_per_day,
            "desired_retention": user.desired_retention,
            "timezone": user.timezone,
            "quiz_feeds_reviews": user.quiz_feeds_reviews,
            "leech_threshold": user.leech_threshold,
            "language": user.language,
            "fsrs_parameters": user.fsrs_parameters,
        },
        "cards": [_card(c) for c in cards],
        "review_logs": [_log(r) for r in logs],
        "quizzes": [_quiz(q) for q in quizzes],
        "interviews": [
            {
                "company": i.company,
                "role": i.role,
                "stage": i.stage,
                "date": i.date.isoformat(),
                "created_at": iso(i.created_at),
            }
            for i in interviews
        ],
        "notes": [
            {
                "question_id": n.question_id,
                "note": n.note_md,
                "answer": n.answer_md,
                "takeaway": n.takeaway_md,
                "created_at": iso(n.created_at),
                "updated_at": iso(n.updated_at),
            }
            for n in notes
        ],
        "mock_interviews": export_mocks(
            session=session, user=user, interview_ids=[i.id for i in interviews]
        ),
    }


def _card(c: Card) -> Json:
    return {
        "question_id": c.question_id,
        "fsrs": c.fsrs,
        "due": iso(c.due),
        "state": c.state,
        "reps": c.reps,
        "lapses": c.lapses,
        "version": c.version,
        "created_at": iso(c.created_at),
        "leech_at": iso(c.leech_at),
        "answer_changed_at": iso(c.answer_changed_at),
    }


def _log(r: ReviewLog) -> Json:
    return {
        "question_id": r.question_id,
        "rating": r.rating,
        "reviewed_at": iso(r.reviewed_at),
        "duration_ms": r.duration_ms,
        "card_before": r.card_before,
        "card_after": r.card_after,
        "lapses_before": r.lapses_before,
        "retrievability": r.retrievability,
        "source": r.source,
    }


def _quiz(q: Quiz) -> Json:
    return {
        "created_at": iso(q.created_at),
        "finished_at": iso(q.finished_at),
        "seed": q.seed,
        "spec": q.spec,
        "feeds_reviews": q.feeds_reviews,
        "items": [
            {
                "position": i.position,
                "question_id": i.question_id,
                "type": i.type,
                "payload": i.payload,
                "response": i.response,
                "verdict": i.verdict,
                "correct": i.correct,
                "answered_at": iso(i.answered_at),
                "duration_ms": i.duration_ms,
            }
            for i in q.items
        ],
    }


def existing_counts(*, session: Session, user: User) -> dict[str, int]:
    """How much study data the user has (an import replaces it): notes and mock
    interviews count too."""
    counts = {}
    for name, model in (
        ("cards", Card),
        ("review_logs", ReviewLog),
        ("quizzes", Quiz),
        ("interviews", Interview),
        ("notes", QuestionNote),
        ("mock_interviews", MockInterview),
    ):
        counts[name] = int(
            session.scalar(select(func.count()).select_from(model).where(model.user_id == user.id))
            or 0
        )
    return counts


def _clear(session: Session, user_id: int) -> None:
    quiz_ids = select(Quiz.id).where(Quiz.user_id == user_id).scalar_subquery()
    clear_mocks(session, user_id)
    session.execute(delete(ReviewLog).where(ReviewLog.user_id == user_id))
    session.execute(delete(QuizItem).where(QuizItem.quiz_id.in_(quiz_ids)))
    session.execute(delete(Quiz).where(Quiz.user_id == user_id))
    session.execute(delete(Interview).where(Interview.user_id == user_id))
    session.execute(delete(Card).where(Card.user_id == user_id))
    session.execute(delete(QuestionNote).where(QuestionNote.user_id == user_id))


def import_user_data(
    *, session: Session, user: User, data: UserData, replace: bool = False
) -> ImportSummary:
    """Write ``data`` into ``user``'s account (module docstring) and commit."""
    counts = existing_counts(session=session, user=user)
    if any(counts.values()) and not replace:
        raise Conflict(
            _(
                "you already have study data (%(cards)d cards, %(reviews)d reviews, "
                "%(quizzes)d quizzes, %(interviews)d interviews, %(notes)d notes, "
                "%(mocks)d mock interviews); importing replaces it, so confirm that you "
                "want it replaced"
            ),
            field="replace",
            cards=counts["cards"],
            reviews=counts["review_logs"],
            quizzes=counts["quizzes"],
            interviews=counts["interviews"],
            notes=counts["notes"],
            mocks=counts["mock_interviews"],
        )
    bank = set(session.scalars(select(Question.id)))
    referenced = (
        {c.question_id for c in data.cards}
        | {i.question_id for q in data.quizzes for i in q.items}
        | {n.question_id for n in data.notes}
        | {a.question_id for m in data.mock_interviews for a in m.attempts}
    )
    unknown = tuple(sorted(referenced - bank))
    try:
        summary = _write(session, user, data, bank, replace=any(counts.values()))
        session.commit()
    except Exception:
        session.rollback()
        raise
    return ImportSummary(**summary, unknown_questions=unknown)


def _write(
    session: Session, user: User, data: UserData, bank: set[str], *, replace: bool
) -> dict[str, Any]:
    _clear(session, user.id)
    settings = data.user
    user.new_per_day = settings.new_per_day
    user.desired_retention = settings.desired_retention
    user.timezone = settings.timezone
    user.quiz_feeds_reviews = settings.quiz_feeds_reviews
    user.leech_threshold = settings.leech_threshold
    user.language = settings.language
    if "fsrs_parameters" in settings.model_fields_set:
        user.fsrs_parameters = settings.fsrs_parameters
    skipped = 0
    cards: dict[str, Card] = {}
    for c in data.cards:
        if c.question_id not in bank:
            skipped += 1
            continue
        cards[c.question_id] = Card(
            user_id=user.id, **c.model_dump(exclude={"fsrs"}), fsrs=dict(c.fsrs)
        )
    session.add_all(cards.values())
    session.flush()  # card ids for the review log
    logs = 0
    for r in data.review_logs:
        card = cards.get(r.question_id)
        if card is None:
            skipped += 1
            continue
        session.add(ReviewLog(user_id=user.id, card_id=card.id, **r.model_dump()))
        logs += 1
    quizzes, quizzes_skipped = _write_quizzes(session, user, data.quizzes, bank)
    skipped += quizzes_skipped
    interviews = [Interview(user_id=user.id, **i.model_dump()) for i in data.interviews]
    session.add_all(interviews)
    notes = 0
    for n in data.notes:
        if n.question_id not in bank:
            skipped += 1
            continue
        session.add(_note_row(user, n))
        notes += 1
    session.flush()  # interview ids for the mock interviews
    mocks, mocks_skipped = write_mocks(
        session,
        user,
        data.mock_interviews,
        bank=bank,
        interview_ids=[i.id for i in interviews],
    )
    session.flush()
    return {
        "cards": len(cards),
        "review_logs": logs,
        "quizzes": quizzes,
        "interviews": len(data.interviews),
        "notes": notes,
        "mock_interviews": mocks,
        "replaced": replace,
        "skipped_records": skipped + mocks_skipped,
    }


def _write_quizzes(
    session: Session, user: User, quizzes: list[QuizData], bank: set[str]
) -> tuple[int, int]:
    """Add the quizzes: how many were written, how many records skipped (an item of a
    question the bank lacks; a quiz left empty)."""
    written = skipped = 0
    for q in quizzes:
        kept, left_out = in_bank(q.items, bank)
        skipped += left_out
        if not kept:
            skipped += 1
            continue
        quiz = Quiz(user_id=user.id, **q.model_dump(exclude={"items"}))
        # Positions index the quiz's pages: renumbered when an item was skipped.
        quiz.items = [
            QuizItem(**item.model_dump(exclude={"position"}), position=n)
            for n, item in enumerate(kept)
        ]
        session.add(quiz)
        written += 1
    return written, skipped


def _note_row(user: User, n: NoteData) -> QuestionNote:
    """The row for a checked note record, its HTML rendered here (never from the file)."""
    row = QuestionNote(
        user_id=user.id, question_id=n.question_id, created_at=n.created_at, updated_at=n.updated_at
    )
    for name in TEXTS:
        text = getattr(n, name)
        setattr(row, f"{name}_md", text)
        setattr(row, f"{name}_html", render_text(name, text) if text is not None else None)
    return row
