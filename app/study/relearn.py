"""Cards whose answer changed: a re-import that changes a question's answer
substantially (``app.content.importer``) stamps ``Card.answer_changed_at`` on every
user's card of it, and the card then offers two ways on.

- **Relearn it**: the card starts over as an fsrs card never reviewed (Learning, step 0,
  due now), so the queue shows it at once as a learning card; it does not use up a new
  card of the day. Its review history stays, and so do its reps and lapses (counters
  of that history). The card's version moves on, so a rating of the old showing (another
  tab) is refused, and undoing a review from before the reset is refused too (undo only
  restores a card that has not changed since its review): undo never brings back the
  schedule of the old answer.
- **Keep my schedule**: the stamp goes; nothing else changes.

Both act only while the stamp is there, so a second click does nothing.
"""

from __future__ import annotations

import datetime as dt

from fsrs import State
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.i18n import mark as N_
from app.models import Card, User, fsrs_columns
from app.study import scheduler
from app.study.scheduler import as_utc
from app.study.undo import rows_changed


def answer_changed_at(*, session: Session, user: User, question_id: str) -> dt.datetime | None:
    """When a re-import changed the answer of the user's card of ``question_id`` (None:
    no card, or nothing to tell)."""
    return session.scalar(
        select(Card.answer_changed_at).where(
            Card.user_id == user.id, Card.question_id == question_id
        )
    )


def _card_id(session: Session, user: User, question_id: str) -> int:
    card_id = session.scalar(
        select(Card.id).where(Card.user_id == user.id, Card.question_id == question_id)
    )
    if card_id is None:
        raise NotFound(
            N_("you have no card for question %(id)r"), field="question_id", id=question_id
        )
    return card_id


def relearn(*, session: Session, user: User, question_id: str, now: dt.datetime) -> bool:
    """Start the card of a changed answer over (see the module docstring) and commit.
    ``False`` when its answer was not marked changed (already handled)."""
    now = as_utc(now)
    card_id = _card_id(session, user, question_id)
    fresh = scheduler.new_card(now)
    card = dict(fresh.to_dict())
    changed = rows_changed(
        session,
        update(Card)
        .where(Card.id == card_id, Card.answer_changed_at.is_not(None))
        .values(
            fsrs=card,
            **fsrs_columns(card),
            due=fresh.due,
            state=int(State.Learning),
            version=Card.version + 1,
            answer_changed_at=None,
        ),
    )
    session.commit()
    return changed == 1


def keep_schedule(*, session: Session, user: User, question_id: str) -> bool:
    """Clear the changed-answer mark, keeping the schedule, and commit. ``False`` when
    there was no mark (already handled)."""
    card_id = _card_id(session, user, question_id)
    changed = rows_changed(
        session,
        update(Card)
        .where(Card.id == card_id, Card.answer_changed_at.is_not(None))
        .values(answer_changed_at=None),
    )
    session.commit()
    return changed == 1
