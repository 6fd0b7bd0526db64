"""The coverage matrix's fast path (each facet's question ids grouped in SQL, plain column
rows, archived questions left out in Python; issue 19 item 5) gives the figures of the
definition: every active question's facets read row by row, every card's recall with
fsrs's own ``Scheduler.get_card_retrievability``. On a generated bank with questions
asked twice by one company, empty stages, archived questions with cards, new cards and
cards reviewed over a year; on SQLite and PostgreSQL. The same bank checks the forecast
and the card counts by state (grouped in SQL) against card-by-card counts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import fsrs
import pytest
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from app.content.importer import import_paths
from app.db import make_sessionmaker
from app.models import Asked, Card, Question, QuestionTag, Tag, User
from app.study import coverage, scheduler, stats
from app.users.service import local_user
from tests.conftest import WriteMd

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
COMPANIES = ("阿里", "美团", "腾讯", "字节", "快手")
STAGES = ("一面", "二面", "三面", "HR 面")
TAGS = ("LoRA", "PEFT", "RLHF", "量化", "KV cache", "MoE", "DPO", "RoPE")


def _bank(rng: random.Random, n: int) -> str:
    parts = ["# 生成的章节\n"]
    for i in range(n):
        tags = ", ".join(rng.sample(TAGS, rng.randint(1, 3)))
        company = rng.choice(COMPANIES)
        stage = rng.choice([*STAGES, ""])
        line = f"> **Company**: {company} | **Round**: 算法工程师 {stage} | **Tags**: [{tags}]"
        parts.append(f"### Q. 第 {i} 题\n{line}\n\n答案 {i}\n")
    return "\n".join(parts)


def _definition(session: Session, user: User, now: dt.datetime) -> coverage.Coverage:
    """The matrices as the stats page defines them, row by row."""
    titles = dict(
        session.execute(
            select(Question.id, Question.title).where(Question.archived_at.is_(None))
        ).all()
    )
    sched = scheduler.make_scheduler(user.desired_retention, user.fsrs_parameters)
    recall: dict[str, float] = {}
    for card in session.scalars(select(Card).where(Card.user_id == user.id)):
        if card.question_id in titles:
            value = sched.get_card_retrievability(fsrs.Card.from_dict(card.fsrs), now)  # type: ignore[arg-type]
            recall[card.question_id] = float(value)
    companies: dict[str, set[str]] = defaultdict(set)
    stages: dict[str, set[str]] = defaultdict(set)
    for qid, company, stage in session.execute(
        select(Asked.question_id, Asked.company, Asked.stage)
    ).all():
        if qid in titles and company:
            companies[company].add(qid)
        if qid in titles and stage:
            stages[stage].add(qid)
    topics: dict[str, set[str]] = defaultdict(set)
    for qid, name in session.execute(
        select(QuestionTag.question_id, Tag.name).join(Tag, Tag.id == QuestionTag.tag_id)
    ).all():
        if qid in titles:
            topics[name].add(qid)
    weakest = sorted(recall.items(), key=lambda item: (item[1], item[0]))[: coverage.WEAKEST]
    return coverage.Coverage(
        at=now,
        questions=len(titles),
        reviewed=len(recall),
        recall=sum(recall.values()) / len(titles),
        companies=_matrix("company", companies, topics, recall),
        stages=_matrix("stage", stages, topics, recall),
        weakest=[coverage.CardRecall(q, titles[q], r) for q, r in weakest],
    )


def _matrix(
    facet: str, rows: dict[str, set[str]], columns: dict[str, set[str]], recall: dict[str, float]
) -> coverage.Matrix:
    def top(sets: dict[str, set[str]], limit: int) -> list[str]:
        return sorted(sets, key=lambda name: (-len(sets[name]), name))[:limit]

    shown_rows, shown_columns = top(rows, coverage.MAX_ROWS), top(columns, coverage.MAX_COLUMNS)
    cells: list[list[coverage.Cell | None]] = []
    for row in shown_rows:
        line: list[coverage.Cell | None] = []
        for column in shown_columns:
            ids = sorted(rows[row] & columns[column])
            mean = sum(recall.get(q, 0.0) for q in ids) / len(ids) if ids else 0.0
            reviewed = sum(q in recall for q in ids)
            cell = coverage.Cell(row, column, len(ids), reviewed, mean, coverage.recall_step(mean))
            line.append(cell if ids else None)
        cells.append(line)
    return coverage.Matrix(
        facet=facet,
        rows=shown_rows,
        columns=shown_columns,
        cells=cells,
        rows_left_out=len(rows) - len(shown_rows),
        columns_left_out=len(columns) - len(shown_columns),
    )


def _approx(cover: coverage.Coverage) -> coverage.Coverage:
    """``cover`` with every mean as ``pytest.approx`` (a sum in another order)."""
    matrices = []
    for m in (cover.companies, cover.stages):
        cells = [
            [
                None
                if c is None
                else dataclasses.replace(c, recall=cast(float, pytest.approx(c.recall)))
                for c in line
            ]
            for line in m.cells
        ]
        matrices.append(
            coverage.Matrix(m.facet, m.rows, m.columns, cells, m.rows_left_out, m.columns_left_out)
        )
    return coverage.Coverage(
        at=cover.at,
        questions=cover.questions,
        reviewed=cover.reviewed,
        recall=cast(float, pytest.approx(cover.recall)),
        companies=matrices[0],
        stages=matrices[1],
        weakest=[
            dataclasses.replace(w, recall=cast(float, pytest.approx(w.recall)))
            for w in cover.weakest
        ],
    )


def _forecast(session: Session, user: User, today: dt.date) -> list[stats.DueDay]:
    zone = ZoneInfo(user.timezone)
    days = [today + dt.timedelta(days=i) for i in range(stats.FORECAST_DAYS)]
    counts: Counter[dt.date] = Counter()
    for card in session.scalars(select(Card).where(Card.leech_at.is_(None))):
        question = session.get(Question, card.question_id)
        if question is not None and question.archived_at is None:
            counts[max(today, card.due.astimezone(zone).date())] += 1
    return [stats.DueDay(d, counts[d]) for d in days]


def _states(session: Session, user: User) -> stats.StateCounts:
    active = set(session.scalars(select(Question.id).where(Question.archived_at.is_(None))))
    cards = [c for c in session.scalars(select(Card)) if c.question_id in active]
    by_state = Counter(c.state for c in cards if c.leech_at is None)
    leeches = sum(c.leech_at is not None for c in cards)
    return stats.StateCounts(
        new=len(active) - len(cards),
        learning=by_state[1],
        review=by_state[2],
        relearning=by_state[3],
        leeches=leeches,
    )


def _check(engine: Engine, content_dir: Path, write_md: WriteMd) -> None:
    rng = random.Random(3)
    write_md("bank.md", _bank(rng, 240))
    factory = make_sessionmaker(engine)
    with factory() as session, session.begin():
        assert import_paths(session, paths=[content_dir], content_dir=content_dir, now=NOW).ok
    with factory() as session:
        user = local_user(session=session)
        ids = list(session.scalars(select(Question.id).order_by(Question.id)))
        # Asked twice by one company (another stage), and a record with no company.
        for qid in ids[:30]:
            session.add(Asked(question_id=qid, company=rng.choice(COMPANIES), stage="三面"))
        session.add(Asked(question_id=ids[40], company=None, stage="一面"))
        sched = fsrs.Scheduler(enable_fuzzing=False)
        cards = []
        for n, qid in enumerate(ids[: len(ids) * 2 // 3], start=1):
            card = fsrs.Card(card_id=n, due=NOW - dt.timedelta(days=400))
            at = NOW - dt.timedelta(days=rng.randint(1, 400), minutes=rng.randint(0, 1440))
            for _ in range(rng.randint(0, 6)):
                card, _log = sched.review_card(card, rng.choice(list(fsrs.Rating)), at)
                at = max(at, card.due) if card.due < NOW else at + dt.timedelta(hours=1)
                if at >= NOW:
                    break
            cards.append(
                {
                    "id": n,
                    "user_id": user.id,
                    "question_id": qid,
                    "fsrs": card.to_dict(),
                    # Some off the review's minute: dues all around the clock.
                    "due": card.due + dt.timedelta(minutes=rng.randint(0, 1439) * (n % 3 == 0)),
                    "state": int(card.state),
                }
            )
        session.execute(insert(Card), cards)
        archived = ids[::17]  # some with cards, some without
        session.execute(update(Question).where(Question.id.in_(archived)).values(archived_at=NOW))
        session.commit()
        for days in (0, 3, 40, 400):
            now = NOW + dt.timedelta(days=days)
            fast = coverage.coverage(session=session, user=user, now=now)
            assert fast == _approx(_definition(session, user, now)), days
        assert fast.reviewed > 50 and fast.companies.rows and fast.stages.rows
        assert any(c is not None and 0 < c.reviewed < c.questions for c in fast.stages.cells[0])
        # The forecast and the state counts, grouped in SQL, against card by card.
        session.execute(update(Card).where(Card.id % 7 == 0).values(leech_at=NOW))
        session.commit()
        spread = 0  # the most days after today with a card due, in one forecast
        for zone in ("Asia/Shanghai", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe"):
            user.timezone = zone
            for days in (-300, -30, 0, 7):
                today = (NOW + dt.timedelta(days=days)).astimezone(ZoneInfo(zone)).date()
                expected = _forecast(session, user, today)
                assert stats.forecast(session=session, user=user, today=today) == expected
                spread = max(spread, sum(d.due > 0 for d in expected[1:]))
            assert stats.state_counts(session=session, user=user) == _states(session, user)
        assert spread >= 5


def test_coverage_matches_the_definition_on_sqlite(
    engine: Engine, content_dir: Path, write_md: WriteMd
) -> None:
    _check(engine, content_dir, write_md)


@pytest.mark.postgres
def test_coverage_matches_the_definition_on_postgresql(
    pg_engine: Engine, content_dir: Path, write_md: WriteMd
) -> None:
    _check(pg_engine, content_dir, write_md)
