"""The coverage matrix: how well the user would recall each slice of the bank right now.

Rows are companies (``Asked.company``), or interview stages (``Asked.stage``); columns
are topic tags. A cell holds the active questions that company (stage) asked and that
carry the tag, and its value is the mean FSRS retrievability of those questions *now*;
a question never reviewed counts as 0, so an untouched slice reads 0 %, not "unknown".
The review and quiz filters take the same facets, so a cell's questions are exactly
what ``/review?company=...&tag=...`` serves.

Eight queries in all, whatever the bank's size: six read the bank alone (archived ids,
the active count, companies, stages, tag links, tag names: ``bank``, which the pages keep
per bank version), two the user (cards, the weakest titles).
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import defaultdict
from collections.abc import Container
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, cast, func, literal, select
from sqlalchemy.orm import Session

from app.models import Asked, Card, Question, QuestionTag, Tag, User, UTCDateTime
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


def _elapsed_days(session: Session, now: dt.datetime) -> ColumnElement[Any]:
    """Whole days from each card's last review to ``now``, at least 0: Python's
    ``max(0, (now - last_review).days)``, exact to the microsecond, in SQL."""
    last = Card.__table__.c.last_review
    if session.get_bind().dialect.name == "postgresql":
        seconds = func.extract("epoch", literal(now, UTCDateTime()) - last)
        return func.greatest(0, cast(func.floor(seconds / 86400), Float))
    # SQLite keeps the time as naive UTC text of one fixed shape, "YYYY-MM-DD
    # HH:MM:SS.ffffff": the calendar days between the dates (both julianday values at
    # midnight, so their difference is exact), less one when now's time of day is
    # earlier than the review's (compared as text, to the microsecond).
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    days = cast(
        func.julianday(func.substr(stamp, 1, 10)) - func.julianday(func.substr(last, 1, 10)),
        Integer,
    ) - cast(func.substr(stamp, 12) < func.substr(last, 12), Integer)
    return func.max(0, days)


def recall_now(
    *, session: Session, user: User, now: dt.datetime, archived: Container[str] = frozenset()
) -> dict[str, float]:
    """Retrievability now of each question the user has a card for (``archived`` ones
    left out); 0 for a card never reviewed.

    fsrs's own formula (``Scheduler.get_card_retrievability``: whole days since the last
    review, the user's decay) computed in SQL from the card's ``stability`` and
    ``last_review`` columns: thousands of cards without decoding their JSON or building
    an ``fsrs.Card`` for each. The same floating-point operations in the same order as
    fsrs's (and C's ``pow``), so the same numbers."""
    now = as_utc(now)
    parameters = scheduler.make_scheduler(user.desired_retention, user.fsrs_parameters).parameters
    decay = -parameters[20]
    factor = 0.9 ** (1 / decay) - 1
    cards = Card.__table__.c
    recall = func.coalesce(
        func.power(1 + literal(factor) * _elapsed_days(session, now) / cards.stability, decay),
        0.0,
    )
    rows = session.execute(select(cards.question_id, recall).where(cards.user_id == user.id))
    found: dict[str, float] = {}
    # A thousand rows at a time: not ``.all()`` (thousands of rows alive at once outlive
    # young-generation collections and bring on full ones, tens of ms in the web process)
    # nor row by row (a fetch per row: 2 ms more for 7,320 cards).
    for chunk in rows.partitions(1000):
        for qid, value in chunk:
            if qid not in archived:
                found[qid] = value
    return found


@dataclass(frozen=True)
class Layout:
    """One matrix as the bank alone fixes it: its rows and columns and each cell's active
    questions, as their positions in ``Bank.positions`` (None: no question in both)."""

    facet: str
    rows: list[str]
    columns: list[str]
    cells: list[list[tuple[int, ...] | None]]
    rows_left_out: int
    columns_left_out: int


@dataclass(frozen=True)
class Bank:
    """What the matrices take from the bank (no user, no time): kept per bank version by
    the pages (``app.web.filter_cache.kept_for_version``)."""

    archived: frozenset[str]
    active: int
    # A number for each active question in a row: per request, the user's recall goes
    # in a list at these positions and each cell sums its positions (C-level indexing,
    # not a set intersection of question ids per cell).
    positions: dict[str, int]
    companies: Layout
    stages: Layout


def _layout(
    facet: str,
    row_sets: dict[str, set[str]],
    column_sets: dict[str, set[str]],
    positions: dict[str, int],
) -> Layout:
    def top(sets: dict[str, set[str]], limit: int) -> list[str]:
        return sorted(sets, key=lambda name: (-len(sets[name]), name))[:limit]

    def cell(ids: set[str]) -> tuple[int, ...] | None:
        return tuple(sorted(positions[qid] for qid in ids)) or None

    rows, columns = top(row_sets, MAX_ROWS), top(column_sets, MAX_COLUMNS)
    return Layout(
        facet=facet,
        rows=rows,
        columns=columns,
        cells=[[cell(row_sets[r] & column_sets[c]) for c in columns] for r in rows],
        rows_left_out=len(row_sets) - len(rows),
        columns_left_out=len(column_sets) - len(columns),
    )


def _matrix(layout: Layout, values: list[float], reviewed: list[int]) -> Matrix:
    """The layout's cells with the user's figures: ``values[i]`` is the recall of the
    question at position ``i`` (0.0 if never reviewed), ``reviewed[i]`` 1 if reviewed."""
    cells: list[list[Cell | None]] = []
    for row, line_ids in zip(layout.rows, layout.cells, strict=True):
        line: list[Cell | None] = []
        for column, ids in zip(layout.columns, line_ids, strict=True):
            if ids is None:
                line.append(None)
                continue
            # Never-reviewed questions add 0.0: the sum of the reviewed ones, exactly.
            mean = sum(map(values.__getitem__, ids)) / len(ids)
            hits = sum(map(reviewed.__getitem__, ids))
            line.append(Cell(row, column, len(ids), hits, mean, recall_step(mean)))
        cells.append(line)
    return Matrix(
        facet=layout.facet,
        rows=layout.rows,
        columns=layout.columns,
        cells=cells,
        rows_left_out=layout.rows_left_out,
        columns_left_out=layout.columns_left_out,
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


def bank(*, session: Session) -> Bank:
    """The archived ids, the active count and both matrices' layouts (six queries).

    Plain column queries (no ORM rows) of the few columns the matrices need; archived
    questions are left out in Python (the archived ids are few), which spares each query
    a join with ``questions``."""
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
    # Each company's (stage's, tag's) question ids in one string: tens of rows, not the
    # tens of thousands of (question, tag) pairs.
    companies = _grouped(session, asked.company, asked.question_id, archived)
    stages = _grouped(session, asked.stage, asked.question_id, archived)
    tags = Tag.__table__.c
    names = dict(session.execute(select(tags.id, tags.name)).all())
    topics: dict[str, set[str]] = defaultdict(set)
    for tag_id, ids in _grouped(session, links.tag_id, links.question_id, archived).items():
        topics[names[tag_id]] |= ids
    # Numbered in id order (a cell sums in the same order in every process).
    members = sorted(set().union(*companies.values(), *stages.values()))
    positions = {qid: i for i, qid in enumerate(members)}
    return Bank(
        archived=frozenset(archived),
        active=active,
        positions=positions,
        companies=_layout("company", companies, topics, positions),
        stages=_layout("stage", stages, topics, positions),
    )


def coverage(
    *, session: Session, user: User, now: dt.datetime, bank_slices: Bank | None = None
) -> Coverage:
    """Both matrices and the weakest cards, as of ``now``: ``bank_slices`` (``bank``'s,
    read now when not given) and the user's recall, two queries."""
    now = as_utc(now)
    slices = bank_slices if bank_slices is not None else bank(session=session)
    recall = recall_now(session=session, user=user, now=now, archived=slices.archived)
    # (recall, id) pairs compared as tuples: no key function called per card.
    weakest = heapq.nsmallest(WEAKEST, zip(recall.values(), recall.keys(), strict=True))
    positions = slices.positions
    values, reviewed = [0.0] * len(positions), [0] * len(positions)
    for qid, value in recall.items():
        i = positions.get(qid)
        if i is not None:
            values[i], reviewed[i] = value, 1
    questions = Question.__table__.c
    weak = select(questions.id, questions.title).where(questions.id.in_([q for _, q in weakest]))
    titles = dict(session.execute(weak).all())
    active = slices.active
    return Coverage(
        at=now,
        questions=active,
        reviewed=len(recall),
        recall=sum(recall.values()) / active if active else 0.0,
        companies=_matrix(slices.companies, values, reviewed),
        stages=_matrix(slices.stages, values, reviewed),
        weakest=[CardRecall(q, titles[q], r) for r, q in weakest],
    )
