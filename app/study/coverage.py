"""The coverage matrix: how well the user would recall each slice of the bank right now.

Rows are companies (``Asked.company``), or interview stages (``Asked.stage``); columns
are topic tags. A cell holds the active questions that company (stage) asked and that
carry the tag, and its value is the mean FSRS retrievability of those questions *now*;
a question never reviewed counts as 0, so an untouched slice reads 0 %, not "unknown".
The review and quiz filters take the same facets, so a cell's questions are exactly
what ``/review?company=...&tag=...`` serves.

Four queries in all (questions, cards, asked records, tags), whatever the bank's size.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
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


def recall_now(*, session: Session, user: User, now: dt.datetime) -> dict[str, float]:
    """Retrievability now of each active question the user has a card for.

    fsrs's own formula (``Scheduler.get_card_retrievability``: whole days since the last
    review, the user's decay), on the two fields it reads, taken out of the card's JSON
    in SQL: thousands of cards without building an ``fsrs.Card`` for each."""
    parameters = scheduler.make_scheduler(user.desired_retention, user.fsrs_parameters).parameters
    decay = -parameters[20]
    factor = 0.9 ** (1 / decay) - 1
    rows = session.execute(
        select(
            Card.question_id,
            Card.fsrs["stability"].as_float(),
            Card.fsrs["last_review"].as_string(),
        )
        .join(Question, Question.id == Card.question_id)
        .where(Card.user_id == user.id, Question.archived_at.is_(None))
    ).all()
    recall: dict[str, float] = {}
    for qid, stability, last_review in rows:
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
    cells: list[list[Cell | None]] = []
    for row in rows:
        line: list[Cell | None] = []
        for column in columns:
            ids = row_sets[row] & column_sets[column]
            if not ids:
                line.append(None)
                continue
            mean = sum(recall.get(q, 0.0) for q in ids) / len(ids)
            reviewed = sum(q in recall for q in ids)
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


def coverage(*, session: Session, user: User, now: dt.datetime) -> Coverage:
    """Both matrices and the weakest cards, as of ``now``."""
    now = as_utc(now)
    active = select(Question.id, Question.title).where(Question.archived_at.is_(None))
    titles: dict[str, str] = dict(session.execute(active).all())
    recall = recall_now(session=session, user=user, now=now)
    companies: dict[str, set[str]] = defaultdict(set)
    stages: dict[str, set[str]] = defaultdict(set)
    for qid, company, stage in session.execute(
        select(Asked.question_id, Asked.company, Asked.stage)
    ).all():
        if qid not in titles:
            continue
        if company:
            companies[company].add(qid)
        if stage:
            stages[stage].add(qid)
    topics: dict[str, set[str]] = defaultdict(set)
    for qid, name in session.execute(
        select(QuestionTag.question_id, Tag.name).join(Tag, Tag.id == QuestionTag.tag_id)
    ).all():
        if qid in titles:
            topics[name].add(qid)
    weakest = sorted(recall.items(), key=lambda item: (item[1], item[0]))[:WEAKEST]
    return Coverage(
        at=now,
        questions=len(titles),
        reviewed=len(recall),
        recall=sum(recall.values()) / len(titles) if titles else 0.0,
        companies=_matrix("company", companies, topics, recall),
        stages=_matrix("stage", stages, topics, recall),
        weakest=[CardRecall(q, titles[q], r) for q, r in weakest],
    )
