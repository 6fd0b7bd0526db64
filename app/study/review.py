"""Flashcard review services: show the next card and rate it; undo (``app.study.undo``),
study settings (``app.study.settings``) and queue counts (``app.study.queue``) are
re-exported here, so routers need only this module. A rating that makes a card a leech
flags it (``app.study.leeches``).

Services take keyword-only arguments, own the SQL and commit their own transaction.

**The label never lies.** ``next_card`` computes the four outcomes and shows their
intervals; ``rate`` applies the same computation. fsrs fuzzes intervals at random, so
the fuzz rng is seeded from (user id, question id, card version) with sha256
(``fuzz_rng``): preview and rating draw the same fuzz in any process, after a restart
too, with nothing kept in memory. The rating is scheduled from the moment it is made,
so the due time moves by the time the answer took; the interval is the one shown.

**One review per showing.** A rating names the card version it was shown with. It
applies with ``UPDATE cards ... WHERE version = :shown`` (or, for a new card, the
unique (user_id, question_id) constraint); the loser of a race, or a second click,
records nothing and gets the recorded result back with ``duplicate=True``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from fsrs import Rating, State
from sqlalchemy import CursorResult, Table, and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.content.filters import QuestionFilter
from app.errors import Conflict, NotFound, Unprocessable
from app.i18n import mark as N_
from app.models import Card, Question, ReviewLog, User, fsrs_columns
from app.study import scheduler
from app.study.ahead import ahead_left, next_due, pick_ahead
from app.study.leeches import becomes_leech
from app.study.queue import (
    REVIEW_SOURCE,
    NewCards,
    QueueCounts,
    pick_next,
    pick_preferred,
    queue_counts,
    study_day_bounds,
)
from app.study.scheduler import CardDict, Outcome, as_utc
from app.study.settings import set_study_settings
from app.study.shown import fuzz_rng
from app.study.undo import (
    UndoResult,
    can_undo,
    card_history,
    last_review,
    rows_changed,
    undo_last,
)

__all__ = [
    "QueueCounts",
    "RateResult",
    "ShownCard",
    "UndoResult",
    "ahead_left",
    "can_undo",
    "card_history",
    "current_version",
    "fuzz_rng",
    "last_review",
    "next_card",
    "next_due",
    "queue_counts",
    "rate",
    "set_study_settings",
    "study_day_bounds",
    "undo_last",
]

MAX_DURATION_MS = 24 * 3600 * 1000
# A rating's read and its log's insert, built once (building costs more than running).
_QUESTION_AND_CARD = (
    select(Question.archived_at, Card)
    .outerjoin(Card, and_(Card.question_id == Question.id, Card.user_id == bindparam("user_id")))
    .where(Question.id == bindparam("question_id"))
    .execution_options(populate_existing=True)
)
_LOG_INSERT = insert(cast(Table, ReviewLog.__table__))
_CARD_INSERT = insert(cast(Table, Card.__table__))
RATING_CHOICES = "1 (Again), 2 (Hard), 3 (Good), 4 (Easy)"


@dataclass(frozen=True)
class ShownCard:
    """A card as shown: send ``version`` back with the rating. ``state`` is 0 for a new
    card, else ``fsrs.State``; ``previews`` maps each rating to its outcome."""

    question_id: str
    version: int
    state: int
    card: CardDict | None
    retrievability: float | None
    shown_at: dt.datetime
    # Keyed by ``fsrs.Rating`` members; typed by int so callers may index with 1-4.
    previews: dict[int, Outcome]


@dataclass(frozen=True)
class RateResult:
    """The recorded review; ``duplicate`` when this showing had been rated already (the
    fields then describe the card as it is)."""

    question_id: str
    rating: Rating
    state: int
    due: dt.datetime
    interval: dt.timedelta
    label: str
    version: int
    reps: int
    lapses: int
    card: CardDict
    duplicate: bool


def next_card(
    *,
    session: Session,
    user: User,
    flt: QuestionFilter,
    now: dt.datetime,
    prefer: str | None = None,
    ahead: dt.datetime | None = None,
    include_new: bool = False,
) -> ShownCard | None:
    """The next card to review under ``flt`` with its four previews (see
    ``app.study.queue`` for the order), or ``None`` when nothing is left for now.
    ``prefer`` shows that question first if it is active and passes ``flt`` (after undo).
    With ``ahead``, the start of a custom-study session (``app.study.ahead``), the
    slice's cards not yet due follow the due ones, and new questions come only with
    ``include_new``.
    """
    now = as_utc(now)
    picked = None
    if prefer:
        picked = pick_preferred(session=session, user=user, flt=flt, question_id=prefer)
    if picked is None:
        new: NewCards = ("all" if include_new else "none") if ahead is not None else "quota"
        picked = pick_next(session=session, user=user, flt=flt, now=now, new=new)
    if picked is None and ahead is not None:
        early = pick_ahead(session=session, user=user, flt=flt, now=now, since=ahead)
        picked = (early.question_id, early) if early is not None else None
    if picked is None:
        return None
    question_id, row = picked
    before = dict(row.fsrs) if row is not None else None
    version = row.version if row is not None else 0
    retention, weights = user.desired_retention, user.fsrs_parameters
    rng = fuzz_rng(user_id=user.id, question_id=question_id, version=version)
    previews = scheduler.preview(
        before, desired_retention=retention, now=now, rng=rng, parameters=weights
    )
    by_rating: dict[int, Outcome] = dict(previews.items())
    return ShownCard(
        question_id=question_id,
        version=version,
        state=row.state if row is not None else 0,
        card=before,
        retrievability=scheduler.retrievability(
            before, desired_retention=retention, now=now, parameters=weights
        ),
        shown_at=now,
        previews=by_rating,
    )


def _check_rating(rating: int) -> Rating:
    if isinstance(rating, bool) or rating not in (1, 2, 3, 4):
        raise Unprocessable(f"rating {rating!r} is not one of {RATING_CHOICES}", field="rating")
    return Rating(rating)


def _outcome(
    session: Session,
    user: User,
    question_id: str,
    version: int,
    before: CardDict | None,
    rating: Rating,
    now: dt.datetime,
) -> Outcome:
    """The outcome of ``rating``, with the same seeded fuzz the preview drew."""
    rng = fuzz_rng(user_id=user.id, question_id=question_id, version=version)
    return scheduler.apply(
        before,
        rating,
        desired_retention=user.desired_retention,
        now=now,
        rng=rng,
        parameters=user.fsrs_parameters,
    )


def _card(session: Session, user_id: int, question_id: str) -> Card | None:
    return session.scalars(
        select(Card)
        .where(Card.user_id == user_id, Card.question_id == question_id)
        .execution_options(populate_existing=True)
    ).first()


def _log(
    session: Session,
    *,
    user_id: int,
    card_id: int,
    question_id: str,
    outcome: Outcome,
    before: CardDict | None,
    lapses_before: int,
    duration_ms: int | None,
    desired_retention: float,
    source: str,
    parameters: list[float] | None = None,
) -> None:
    reviewed_at = outcome.reviewed_at
    values = {
        "user_id": user_id,
        "card_id": card_id,
        "question_id": question_id,
        "rating": int(outcome.rating),
        "reviewed_at": reviewed_at,
        "duration_ms": duration_ms,
        "card_after": outcome.card,
        "lapses_before": lapses_before,
        "retrievability": scheduler.retrievability(
            before, desired_retention=desired_retention, now=reviewed_at, parameters=parameters
        ),
        "source": source,
    }
    # A first review leaves card_before out: SQL NULL, not JSON null ("first review"
    # queries test IS NULL).
    if before is not None:
        values["card_before"] = before
    session.execute(_LOG_INSERT, values)


def _result(question_id: str, outcome: Outcome, row: Mapping[str, int], dup: bool) -> RateResult:
    return RateResult(
        question_id=question_id,
        rating=outcome.rating,
        state=int(outcome.state),
        due=outcome.due,
        interval=outcome.interval,
        label=outcome.label,
        version=row["version"],
        reps=row["reps"],
        lapses=row["lapses"],
        card=outcome.card,
        duplicate=dup,
    )


def _already_rated(session: Session, user: User, question_id: str, version: int) -> RateResult:
    """The recorded result of a showing rated before (double click, other tab, lost race)."""
    row = _card(session, user.id, question_id)
    log = None
    if row is not None and row.version == version + 1:
        log = session.scalars(
            select(ReviewLog).where(ReviewLog.card_id == row.id).order_by(ReviewLog.id.desc())
        ).first()
    if row is None or log is None:
        now_at = row.version if row is not None else 0
        raise Conflict(
            f"question {question_id!r} was shown at version {version} but is at version "
            f"{now_at} now: it changed since it was shown; show it again",
            field="version",
        )
    interval = row.due - log.reviewed_at
    recorded = Outcome(
        rating=Rating(log.rating),
        card=dict(row.fsrs),
        state=State(row.state),
        due=row.due,
        interval=interval,
        label=scheduler.interval_label(interval),
    )
    counts = {"version": row.version, "reps": row.reps, "lapses": row.lapses}
    return _result(question_id, recorded, counts, True)


def rate(
    *,
    session: Session,
    user: User,
    question_id: str,
    rating: int,
    version: int,
    duration_ms: int | None,
    now: dt.datetime,
    source: str = REVIEW_SOURCE,
) -> RateResult:
    """Record ``rating`` for the showing of ``question_id`` at ``version`` (0: new) and
    commit. A second rating of the same showing records nothing (``duplicate``).
    ``source`` says where the rating came from ("review", or "quiz" for a quiz's wrong
    answer); only reviews count towards the day's review and new-card counts."""
    now = as_utc(now)
    grade = _check_rating(rating)
    if isinstance(version, bool) or version < 0:
        raise Unprocessable(f"version {version!r} must be 0 or more", field="version")
    if duration_ms is not None and not 0 <= duration_ms <= MAX_DURATION_MS:
        raise Unprocessable(
            f"duration_ms {duration_ms} must be between 0 and {MAX_DURATION_MS}",
            field="duration_ms",
        )
    user_id, retention, weights = user.id, user.desired_retention, user.fsrs_parameters
    # The question's state and the user's card in one statement (not the whole question).
    found = session.execute(
        _QUESTION_AND_CARD, {"user_id": user_id, "question_id": question_id}
    ).first()
    if found is None or found[0] is not None:
        exists = N_("question %(id)r does not exist")
        template = exists if found is None else N_("question %(id)r is archived")
        raise NotFound(template, field="question_id", id=question_id)
    row: Card | None = found[1]
    if row is None and version != 0 or row is not None and row.version != version:
        return _already_rated(session, user, question_id, version)
    before = dict(row.fsrs) if row is not None else None
    outcome = _outcome(session, user, question_id, version, before, grade, now)
    lapse = int(scheduler.is_lapse(before, grade))
    if row is None:
        values = {"fsrs": outcome.card, "due": outcome.due, "state": int(outcome.state)}
        values |= fsrs_columns(outcome.card)
        new = {"user_id": user_id, "question_id": question_id, "reps": 1, "lapses": lapse}
        try:  # a Core insert: the ORM's unit of work cost more than the statement
            inserted = session.execute(
                _CARD_INSERT, values | new | {"version": 1, "created_at": outcome.reviewed_at}
            )
            key = cast(CursorResult[Any], inserted).inserted_primary_key
        except IntegrityError:
            # The unique (user_id, question_id) constraint: the same showing, rated first
            # by a concurrent request.
            session.rollback()
            return _already_rated(session, user, question_id, version)
        assert key is not None
        card_id = int(key[0])
        counts = {"version": 1, "reps": 1, "lapses": lapse}
        lapses_before = 0
    else:
        leech = row.leech_at is None and becomes_leech(
            lapses_after=row.lapses + lapse, threshold=user.leech_threshold, lapsed=bool(lapse)
        )
        # Flagged at the review's own time: undo clears a flag its review set.
        flag = {"leech_at": outcome.reviewed_at} if leech else {}
        applied = rows_changed(
            session,
            update(Card)
            .where(Card.id == row.id, Card.version == version)
            .values(
                fsrs=outcome.card,
                **fsrs_columns(outcome.card),
                due=outcome.due,
                state=int(outcome.state),
                reps=Card.reps + 1,
                lapses=Card.lapses + lapse,
                version=version + 1,
                **flag,
            )
            .execution_options(synchronize_session=False),
        )
        if applied != 1:  # a concurrent rating of this showing won
            session.rollback()
            return _already_rated(session, user, question_id, version)
        counts = {"version": version + 1, "reps": row.reps + 1, "lapses": row.lapses + lapse}
        lapses_before = row.lapses
        card_id = row.id
        # The UPDATE bypassed the identity map: reload the row the next time it is read.
        session.expire(row)
    _log(
        session,
        user_id=user_id,
        card_id=card_id,
        question_id=question_id,
        outcome=outcome,
        before=before,
        lapses_before=lapses_before,
        duration_ms=duration_ms,
        desired_retention=retention,
        source=source,
        parameters=weights,
    )
    session.commit()
    return _result(question_id, outcome, counts, False)


def current_version(*, session: Session, user: User, question_id: str) -> int:
    """The version a rating of ``question_id`` must name now (0: no card yet)."""
    row = _card(session, user.id, question_id)
    return row.version if row is not None else 0
