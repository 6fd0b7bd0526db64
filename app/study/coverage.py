"""The coverage matrix: how well the user would recall each slice of the bank right now.

Rows are companies (``Asked.company``), or interview stages (``Asked.stage``); columns
are topic tags. A cell holds the active questions that company (stage) asked and that
carry the tag, and its value is the mean FSRS retrievability of those questions *now*;
a question never reviewed counts as 0, so an untouched slice reads 0 %, not "unknown".
The review and quiz filters take the same facets, so a cell's questions are exactly
what ``/review?company=...&tag=...`` serves.

Seven queries in all (archived ids, the active count, cards, asked records, tag links,
tag names, the weakest titles), whatever the bank's size.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import defaultdict
from collections.abc import Container
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.models import Asked, Card, Question, QuestionTag, Tag, User
from app.study import scheduler
from app.study.scheduler import as_utc

# The most asked companies (stages) and the most frequent topics; the rest are counted.
MAX_ROWS = 30
MAX_COLUMNS = 15
# Lower bounds of the colour steps 1-5 (step 0 below the first).
STEPS = (0.2, 0.4, 0.6, 0.8, 0.9)
WEAKEST = 10


def recall_step(value: float) -> int:
    """The colour step (0-5) of a mean recall."""
    return sum(value >= bound for bound in STEPS)


@dataclass(frozen=True)
class Cell:
    row: str
    column: str
    questions: int
    reviewed: int
    # Mean retrievability now over the cell's questions (never reviewed: 0).
    recall: float
    step: int


@dataclass(frozen=True)
class Matrix:
    # The row facet: "company" or "stage"; columns are always "tag".
    facet: str
    rows: list[str]
    columns: list[str]
    # cells[i][j] for rows[i] × columns[j]; None where no question is in both.
    cells: list[list[Cell | None]]
    rows_left_out: int
    columns_left_out: int


@dataclass(frozen=True)
class CardRecall:
    question_id: str
    title: str
    recall: float


@dataclass(frozen=True)
class Coverage:
    at: dt.datetime
    questions: int
    reviewed: int
    # Mean over every active question (never reviewed: 0).
    recall: float
    companies: Matrix
    stages: Matrix
    # Reviewed cards with the lowest recall now (leeches included).
    weakest: list[CardRecall]


def recall_now(
    *, session: Session, user: User, now: dt.datetime, archived: Container[str] = frozenset()
) -> dict[str, float]:
    """Retrievability now of each question the user has a card for (``archived`` ones
    left out).

    fsrs's own formula (``Scheduler.get_card_retrievability``: whole days since the last
    review, the user's decay), on the two fields it reads, taken out of the card's JSON
    in SQL: thousands of cards without building an ``fsrs.Card`` for each."""
    parameters = scheduler.make_scheduler(user.desired_retention, user.fsrs_parameters).parameters
    decay = -parameters[20]
    factor = 0.9 ** (1 / decay) - 1
    cards = Card.__table__.c
    rows = session.execute(
        select(
            cards.question_id,
            cards.fsrs["stability"].as_float(),
            cards.fsrs["last_review"].as_string(),
        ).where(cards.user_id == user.id)
    ).all()
    recall: dict[str, float] = {}
    for qid, stability, last_review in rows:
        if qid in archived:
            continue
        if stability is None or last_review is None:
            recall[qid] = 0.0
            continue
        elapsed = max(0, (now - dt.datetime.fromisoformat(last_review)).days)
        recall[qid] = float((1 + factor * elapsed / stability) ** decay)
    return recall


def _matrix(
    facet: str,
    row_sets: dict[str, set[str]],
    column_sets: dict[str, set[str]],
    recall: dict[str, float],
) -> Matrix:
    def top(sets: dict[str, set[str]], limit: int) -> list[str]:
        return sorted(sets, key=lambda name: (-len(sets[name]), name))[:limit]

    rows, columns = top(row_sets, MAX_ROWS), top(column_sets, MAX_COLUMNS)
    reviewed_ids = recall.keys()
    cells: list[list[Cell | None]] = []
    for row in rows:
        line: list[Cell | None] = []
        for column in columns:
            ids = row_sets[row] & column_sets[column]
            if not ids:
                line.append(None)
                continue
            # Summed in the set's order, as a generator over it would (the same float).
            mean = sum(map(recall.get, ids, repeat(0.0, len(ids)))) / len(ids)
            reviewed = len(reviewed_ids & ids)
            line.append(Cell(row, column, len(ids), reviewed, mean, recall_step(mean)))
        cells.append(line)
    return Matrix(
        facet=facet,
        rows=rows,
        columns=columns,
        cells=cells,
        rows_left_out=len(row_sets) - len(rows),
        columns_left_out=len(column_sets) - len(columns),
    )


SEPARATOR = "\x1f"  # ASCII unit separator: in no question id


def _grouped(
    session: Session, key: ColumnElement[Any], question_id: ColumnElement[str], archived: set[str]
) -> dict[Any, set[str]]:
    """The ids of the active questions under each non-empty ``key``, in one query grouped
    by it (each group's ids joined in one string)."""
    if session.get_bind().dialect.name == "postgresql":
        joined = func.string_agg(question_id, SEPARATOR)
    else:
        joined = func.group_concat(question_id, SEPARATOR)
    rows = session.execute(select(key, joined).where(key.is_not(None)).group_by(key)).all()
    found = {name: set(ids.split(SEPARATOR)) - archived for name, ids in rows if name != ""}
    return {name: ids for name, ids in found.items() if ids}


def coverage(*, session: Session, user: User, now: dt.datetime) -> Coverage:
    """Both matrices and the weakest cards, as of ``now``.

    Plain column queries (no ORM rows) of the few columns the matrices need; archived
    questions are left out in Python (the archived ids are few), which spares each query
    a join with ``questions``."""
    now = as_utc(now)
    questions, asked, links = Question.__table__.c, Asked.__table__.c, QuestionTag.__table__.c
    archived = set(session.scalars(select(questions.id).where(questions.archived_at.is_not(None))))
    active = int(
        session.scalar(
            select(func.count())
            .select_from(Question.__table__)
            .where(questions.archived_at.is_(None))
        )
        or 0
    )
    recall = recall_now(session=session, user=user, now=now, archived=archived)
    # Each company's (stage's, tag's) question ids in one string: tens of rows, not the
    # tens of thousands of (question, tag) pairs.
    companies = _grouped(session, asked.company, asked.question_id, archived)
    stages = _grouped(session, asked.stage, asked.question_id, archived)
    tags = Tag.__table__.c
    names = dict(session.execute(select(tags.id, tags.name)).all())
    topics: dict[str, set[str]] = defaultdict(set)
    for tag_id, ids in _grouped(session, links.tag_id, links.question_id, archived).items():
        topics[names[tag_id]] |= ids
    weakest = heapq.nsmallest(WEAKEST, recall.items(), key=lambda item: (item[1], item[0]))
    weak_ids = [q for q, _ in weakest]
    weak = select(questions.id, questions.title).where(questions.id.in_(weak_ids))
    titles = dict(session.execute(weak).all())
    return Coverage(
        at=now,
        questions=active,
        reviewed=len(recall),
        recall=sum(recall.values()) / active if active else 0.0,
        companies=_matrix("company", companies, topics, recall),
        stages=_matrix("stage", stages, topics, recall),
        weakest=[CardRecall(q, titles[q], r) for q, r in weakest],
    )
