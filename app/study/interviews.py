"""Upcoming interviews: add, list, delete, the plan toward the nearest one and the
overview of the plans toward every upcoming one (``plan_overview``).

A company or stage typed the way the bank spells it up to case, width and spaces
("ALI" for "Ali", "一面 " for "一面") is stored in the bank's spelling, so the interview
finds the questions asked there and its review link filters by them. The review queue
aims at the nearest interview on or after today (``app.study.queue.load_focus``); the
rules of the plan are in ``app.study.plan``.

Adding is idempotent: an interview identical to one the user has (same company, role,
stage and date, as stored) is that one, so a double-submitted form adds one. The check
and the insert are one ``INSERT .. SELECT .. WHERE NOT EXISTS`` under a lock on the
user's row, so two concurrent posts add one too (SQLite runs the statement under its
write lock; PostgreSQL serialises on the row lock). No unique index is needed.

Services take keyword-only arguments, own the SQL and commit their own transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import Select, delete, exists, insert, literal, select
from sqlalchemy.orm import Session

from app.content.filters import QuestionFilter
from app.content.names import company_key
from app.content.tags import fold
from app.errors import NotFound, Unprocessable
from app.i18n import mark as _
from app.models import Asked, Card, Interview, User
from app.study import plan, queue
from app.study.plan import CardView, Overview, Plan
from app.study.scheduler import as_utc
from app.study.undo import rows_changed

COMPANY_MAX, ROLE_MAX, STAGE_MAX = 200, 200, 100


def user_today(*, user: User, now: dt.datetime) -> dt.date:
    """Today's date in the user's time zone."""
    return as_utc(now).astimezone(queue.user_zone(user)).date()


def _text(value: str | None, *, field: str, limit: int, required: bool = False) -> str | None:
    text = " ".join((value or "").split())
    if required and not text:
        raise Unprocessable(_("%(field)s must not be empty"), field=field)
    if len(text) > limit:
        raise Unprocessable(
            _("%(field)s is %(length)d characters long; at most %(limit)d are allowed"),
            field=field,
            length=len(text),
            limit=limit,
        )
    return text or None


def _bank_spelling(session: Session, column: str, value: str | None) -> str | None:
    """``value`` as the bank spells it, if the bank has it up to case, width and spaces
    (a company by the bank's own rule, ``company_key``: every space)."""
    if value is None:
        return None
    attribute = getattr(Asked, column)
    known = session.scalars(select(attribute).where(attribute.is_not(None)).distinct())
    folded = company_key if column == "company" else fold
    key = folded(value)
    return next((str(k) for k in known if folded(str(k)) == key), value)


def add_interview(
    *,
    session: Session,
    user: User,
    company: str | None,
    role: str | None,
    stage: str | None,
    date: dt.date,
    now: dt.datetime,
) -> Interview:
    """Add an interview on ``date`` (today or later in the user's time zone) and commit."""
    name = _text(company, field="company", limit=COMPANY_MAX, required=True)
    role_text = _text(role, field="role", limit=ROLE_MAX)
    stage_text = _text(stage, field="stage", limit=STAGE_MAX)
    today = user_today(user=user, now=now)
    if date < today:
        raise Unprocessable(
            _("date %(date)s is in the past (today is %(today)s)"),
            date=date.isoformat(),
            today=today.isoformat(),
            field="date",
        )
    values = {
        "user_id": user.id,
        "company": _bank_spelling(session, "company", name),
        "role": _bank_spelling(session, "role", role_text),
        "stage": _bank_spelling(session, "stage", stage_text),
        "date": date,
        "created_at": as_utc(now),
    }
    same = _same(values)
    # One add at a time per user (PostgreSQL); SQLite's write lock covers the statement.
    session.execute(select(User.id).where(User.id == user.id).with_for_update())
    columns = [getattr(Interview, name) for name in values]
    source = select(*(literal(v, c.type) for v, c in zip(values.values(), columns, strict=True)))
    session.execute(insert(Interview).from_select(list(values), source.where(~exists(same))))
    interview_id = session.scalars(same.order_by(Interview.id).limit(1)).one()
    session.commit()
    interview = session.get(Interview, interview_id)
    assert interview is not None
    return interview


def _same(values: Mapping[str, object]) -> Select[int]:
    """The user's interviews identical to ``values`` (company, role, stage, date)."""
    return select(Interview.id).where(
        *(
            getattr(Interview, name).is_not_distinct_from(values[name])
            for name in ("user_id", "company", "role", "stage", "date")
        )
    )


def list_interviews(*, session: Session, user: User) -> list[Interview]:
    """The user's interviews, soonest first (past ones too)."""
    return list(
        session.scalars(
            select(Interview)
            .where(Interview.user_id == user.id)
            .order_by(Interview.date, Interview.id)
        )
    )


def delete_interview(*, session: Session, user: User, interview_id: int) -> None:
    """Delete one of the user's interviews and commit."""
    deleted = rows_changed(
        session,
        delete(Interview).where(Interview.id == interview_id, Interview.user_id == user.id),
    )
    if deleted != 1:
        session.rollback()
        raise NotFound(_("you have no interview %(id)d"), field="interview_id", id=interview_id)
    session.commit()


def current_plan(*, session: Session, user: User, now: dt.datetime) -> Plan | None:
    """The plan toward the nearest interview on or after today; ``None`` without one."""
    now = as_utc(now)
    focus = queue.load_focus(session=session, user=user, now=now)
    if focus is None:
        return None
    start, end = queue.study_day_bounds(user=user, now=now)
    new_quota, _ = queue.new_left_today(session=session, user=user, flt=QuestionFilter(), now=now)
    cards = queue.focus_cards(session=session, user=user, flt=QuestionFilter(), focus=focus)
    # Leeches have a card (left out above) but are not new.
    carded = set(session.scalars(select(Card.question_id).where(Card.user_id == user.id)))
    new = [CardView(question_id=q) for q in focus.tiers if q not in carded]
    return plan.summarize(
        [*cards, *new],
        focus,
        today=user_today(user=user, now=now),
        day_start=start,
        day_end=end,
        new_quota=new_quota,
        new_limit=user.new_per_day,
    )


def plan_overview(*, session: Session, user: User, now: dt.datetime) -> Overview | None:
    """The plans toward every interview on or after today, soonest first, added up
    (``plan.overview``); ``None`` without one. A question shared by two interviews is
    planned for the earlier; the new cards the user may start today go to the earliest
    interview first."""
    now = as_utc(now)
    today = user_today(user=user, now=now)
    upcoming = list(
        session.scalars(
            select(Interview)
            .where(Interview.user_id == user.id, Interview.date >= today)
            .order_by(Interview.date, Interview.id)
        )
    )
    if not upcoming:
        return None
    zone = queue.user_zone(user)
    start, end = queue.study_day_bounds(user=user, now=now)
    quota, _ = queue.new_left_today(session=session, user=user, flt=QuestionFilter(), now=now)
    carded = set(session.scalars(select(Card.question_id).where(Card.user_id == user.id)))
    plans: list[Plan] = []
    claimed: set[str] = set()
    for interview in upcoming:
        focus = queue.interview_focus(session=session, interview=interview, zone=zone)
        cards = queue.focus_cards(session=session, user=user, flt=QuestionFilter(), focus=focus)
        new = [CardView(question_id=q) for q in focus.tiers if q not in carded]
        view = plan.summarize(
            [*cards, *new],
            focus,
            today=today,
            day_start=start,
            day_end=end,
            new_quota=quota,
            new_limit=user.new_per_day,
            claimed=frozenset(claimed),
        )
        quota = max(0, quota - view.new_to_see)
        claimed.update(focus.tiers)
        plans.append(view)
    return plan.overview(plans, today=today)
