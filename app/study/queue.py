"""Today's review queue: study-day bounds in the user's time zone, the counts a page shows
(due, new left, reviewed, streak), and which card comes next.

A study day runs from midnight to midnight in ``User.timezone``. Queue order, in
``pick_next``:

1. due cards, earliest due first: Review cards due before the study day ends (like
   Anki, a review is "due today" whatever the hour), Learning and Relearning cards due
   by now (their steps are minutes, so the time matters);
2. new questions, in chapter file order then position, while today's new-card limit
   lasts;
3. learn-ahead: when nothing else is left, a Learning/Relearning card due within
   ``LEARN_AHEAD`` (Anki's default, 20 minutes) rather than an idle "come back in 8
   minutes". Later ones wait; they are still counted in ``due_today``.

Leeches (``Card.leech_at`` set) are never served. With an upcoming interview its
questions come first in 1 and 2, and some of their cards are pulled forward (the rules
are ``app.study.plan``'s): ``load_focus`` reads the interview's questions and tiers,
``focus_cards`` the user's cards of them, which ``plan`` ranks in Python; the rest of
the queue keeps its indexed SQL. Without an interview the order is exactly the above.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session

from app.content.filters import QuestionFilter, filtered_ids, question_conditions
from app.models import Asked, Card, Interview, Question, QuestionTag, ReviewLog, User
from app.study import plan, queue_sql
from app.study.days import REVIEW_SOURCE as REVIEW_SOURCE
from app.study.days import day_start, reviews_of, streak_from
from app.study.days import iana_zones as iana_zones
from app.study.days import streak_days as streak_days
from app.study.days import study_day_bounds as study_day_bounds
from app.study.days import user_zone as user_zone
from app.study.plan import CardView, Focus, Target
from app.study.scheduler import as_utc

LEARN_AHEAD = dt.timedelta(minutes=20)
NewCards = Literal["quota", "none", "all"]


@dataclass(frozen=True)
class QueueCounts:
    """Today's queue under a filter. ``reviewed_today`` and ``streak_days`` are the
    user's, whatever the filter: a review under another filter is still study."""

    due_today: int
    new_left_today: int
    new_available: int
    streak_days: int
    reviewed_today: int


def reviewed_between(
    session: Session, user_id: int, start: dt.datetime, end: dt.datetime, *, first: bool = False
) -> int:
    """Reviews in ``[start, end)``; with ``first``, only first reviews of new cards."""
    stmt = select(func.count(ReviewLog.id)).where(
        reviews_of(user_id), ReviewLog.reviewed_at >= start, ReviewLog.reviewed_at < end
    )
    if first:
        # A first review stores SQL NULL before it (see review._log).
        stmt = stmt.where(ReviewLog.card_before.is_(None))
    return int(session.scalar(stmt) or 0)


def _has_card(user_id: int) -> ColumnElement[bool]:
    return exists().where(Card.user_id == user_id, Card.question_id == Question.id)


def new_left_today(
    *, session: Session, user: User, flt: QuestionFilter, now: dt.datetime
) -> tuple[int, int]:
    """(new cards left today, new questions available) under ``flt``. The daily limit is
    the user's across all filters: first reviews today count against it."""
    # Questions under the filter minus those with a card: two cheap counts instead of
    # a NOT EXISTS probe per question.
    conditions = question_conditions(flt)
    total = session.scalar(select(func.count()).select_from(Question).where(*conditions)) or 0
    carded = (
        session.scalar(
            select(func.count(Card.id))
            .join(Question, Question.id == Card.question_id)
            .where(Card.user_id == user.id, *conditions)
        )
        or 0
    )
    available = int(total) - int(carded)
    return min(_new_quota(session, user, now), available), available


def _new_quota(session: Session, user: User, now: dt.datetime) -> int:
    """New cards the user may still start today (all filters together)."""
    start, end = study_day_bounds(user=user, now=now)
    started = reviewed_between(session, user.id, start, end, first=True)
    return max(0, user.new_per_day - started)


def _params(user: User, now: dt.datetime, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """The parameters of ``queue_sql``'s statements (see there)."""
    today = now.astimezone(user_zone(user)).date()
    return {"user_id": user.id, "today": today, "start": start, "end": end, "now": now}


def queue_counts(
    *, session: Session, user: User, flt: QuestionFilter, now: dt.datetime
) -> QueueCounts:
    """Today's counts for the user under ``flt`` (active questions only), read with one
    statement of scalar subqueries (plus the interview's cards when one is coming, and
    one more per day of a streak longer than a day)."""
    now = as_utc(now)
    start, end = study_day_bounds(user=user, now=now)
    row = session.execute(queue_sql.counts(flt), _params(user, now, start, end)).one()
    due, total, carded, started, reviewed, last, before_today, interview = row
    due = int(due or 0)
    if interview:
        focus = load_focus(session=session, user=user, now=now)
        if focus is not None:
            # The interview's cards pulled forward into today (the count above has those
            # due today by their own schedule).
            due += sum(
                plan.pulled(c, focus)
                and c.due is not None
                and c.due >= end
                and focus.pull_to[c.question_id] < end
                for c in focus_cards(session=session, user=user, flt=flt, focus=focus)
            )
    available = int(total or 0) - int(carded or 0)
    quota = max(0, user.new_per_day - int(started or 0))
    stamps = (_aware(last), _aware(before_today))
    return QueueCounts(
        due_today=due,
        new_left_today=min(quota, available),
        new_available=available,
        streak_days=streak_from(session, user, now, stamps),
        reviewed_today=int(reviewed or 0),
    )


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """A timestamp read through a scalar subquery, as the column type gives it."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def _asked_by(company: str) -> Select[str]:
    """Ids of the active questions ``company`` asked (tiers 1-2)."""
    return (
        select(Asked.question_id)
        .join(Question, Question.id == Asked.question_id)
        .where(Asked.company == company, Question.archived_at.is_(None))
    )


def _interview_questions(company: str) -> ColumnElement[bool]:
    """``Question`` is one of the interview's (tiers 1-3): asked by ``company``, or
    sharing a topic tag with an active question it asked."""
    asked = _asked_by(company)
    topics = select(QuestionTag.tag_id).where(QuestionTag.question_id.in_(asked))
    related = select(QuestionTag.question_id).where(QuestionTag.tag_id.in_(topics))
    return or_(Question.id.in_(asked), Question.id.in_(related))


def load_focus(*, session: Session, user: User, now: dt.datetime) -> Focus | None:
    """The user's nearest interview on or after today with its questions' tiers and
    pull-forward days (``app.study.plan``); ``None`` without one."""
    zone = user_zone(user)
    today = as_utc(now).astimezone(zone).date()
    interview = session.scalars(
        select(Interview)
        .where(Interview.user_id == user.id, Interview.date >= today)
        .order_by(Interview.date, Interview.id)
        .limit(1)
    ).first()
    if interview is None:
        return None
    return interview_focus(session=session, interview=interview, zone=zone)


def interview_focus(*, session: Session, interview: Interview, zone: zoneinfo.ZoneInfo) -> Focus:
    """``interview``'s questions with their tiers and pull-forward days."""
    bank = list(
        session.scalars(
            select(Question.id)
            .where(Question.archived_at.is_(None), _interview_questions(interview.company))
            .order_by(Question.source_file, Question.position)
        )
    )
    active = set(bank)
    asked = [
        (question_id, stage)
        for question_id, stage in session.execute(
            select(Asked.question_id, Asked.stage).where(Asked.company == interview.company)
        )
        if question_id in active
    ]
    tiers = plan.question_tiers(asked=asked, related=bank, stage=interview.stage)
    planned_at = as_utc(interview.created_at)
    # A time zone changed since could put the day it was added after the interview.
    first = min(planned_at.astimezone(zone).date(), interview.date)
    days = plan.spread(plan.focus_order(bank, tiers), first=first, interview=interview.date)
    starts = {day: day_start(day, zone) for day in set(days.values())}
    target = Target(
        interview_id=interview.id,
        company=interview.company,
        role=interview.role,
        stage=interview.stage,
        day=interview.date,
        starts=day_start(interview.date, zone),
        planned_at=planned_at,
    )
    return Focus(target=target, tiers=tiers, pull_to={q: starts[d] for q, d in days.items()})


def focus_cards(
    *, session: Session, user: User, flt: QuestionFilter, focus: Focus
) -> list[CardView]:
    """The user's cards of the interview's questions under ``flt``, leeches left out.

    Reads the user's cards and keeps the interview's in Python: cheaper than testing
    each card against the tiers' subqueries when a topic spans much of the bank."""
    if not focus.tiers:
        return []
    rows = session.execute(
        select(
            Card.question_id,
            Card.id,
            Card.state,
            Card.due,
            Card.fsrs["last_review"].as_string(),
            Card.created_at,
        )
        .join(Question, Question.id == Card.question_id)
        .where(Card.user_id == user.id, Card.leech_at.is_(None), *question_conditions(flt))
    )
    return [
        CardView(
            question_id=question_id,
            card_id=card_id,
            state=state,
            due=due,
            last_review=as_utc(dt.datetime.fromisoformat(last)) if last else None,
            first_review=created_at,
        )
        for question_id, card_id, state, due, last, created_at in rows
        if question_id in focus.tiers
    ]


def _first_new_asked(session: Session, user: User, flt: QuestionFilter, focus: Focus) -> str | None:
    """The first new question under ``flt`` of tier 1, else of tier 2, in bank order."""
    asked = session.scalars(
        select(Question.id)
        .where(
            *question_conditions(flt),
            Question.id.in_(_asked_by(focus.target.company)),
            ~_has_card(user.id),
        )
        .order_by(Question.source_file, Question.position)
    ).all()
    return next(iter(plan.new_order(asked, focus)), None)


def pick_next(
    *,
    session: Session,
    user: User,
    flt: QuestionFilter,
    now: dt.datetime,
    new: NewCards = "quota",
) -> tuple[str, Card | None] | None:
    """The next question to show under ``flt`` and its card (``None``: new), in the
    order the module docstring gives; ``None`` when nothing is left for now. ``new``
    says which new questions may come: "quota" (today's new-card limit), "none" (custom
    study of cards already learned) or "all" (custom study that asked for new ones,
    past the limit)."""
    now = as_utc(now)
    start, end = study_day_bounds(user=user, now=now)
    params = _params(user, now, start, end)
    interview, started_today = session.execute(queue_sql.INTERVIEW_AND_STARTED, params).one()
    focus = load_focus(session=session, user=user, now=now) if interview else None
    if focus is not None:
        cards = focus_cards(session=session, user=user, flt=flt, focus=focus)
        first = next(iter(plan.due_order(cards, focus, now=now, day_end=end)), None)
        if first is not None:
            return first.question_id, session.get(Card, first.card_id)
    # With an interview, every due card of its questions was served above: this is the rest.
    due = session.scalars(queue_sql.first_card(flt, False), params).first()
    if due is not None:
        return due.question_id, due
    if new == "all" or (new == "quota" and user.new_per_day - int(started_today or 0) > 0):
        asked = _first_new_asked(session, user, flt, focus) if focus is not None else None
        if asked is not None:
            return asked, None
        new_id = session.scalars(queue_sql.first_new(flt), {"user_id": user.id}).first()
        if new_id is not None:
            return new_id, None
    soon = {"user_id": user.id, "soon": now + LEARN_AHEAD}
    ahead = session.scalars(queue_sql.first_card(flt, True), soon).first()
    return (ahead.question_id, ahead) if ahead is not None else None


def pick_preferred(
    *, session: Session, user: User, flt: QuestionFilter, question_id: str
) -> tuple[str, Card | None] | None:
    """``question_id`` and its card if it is active and passes ``flt`` (used to show a
    card again right after its rating was undone), whether due or not."""
    found = session.scalar(filtered_ids(flt).where(Question.id == question_id))
    if found is None:
        return None
    card = session.scalars(
        select(Card).where(Card.user_id == user.id, Card.question_id == question_id)
    ).first()
    return found, card
