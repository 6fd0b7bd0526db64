"""Mock interviews over the seed bank: which questions come (the company's, the weak
topics'), timing by the server, grades into the flashcards, the report, the history."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.content.importer import import_paths
from app.db import make_engine, make_sessionmaker, migrate
from app.errors import Conflict, NotFound, Unprocessable
from app.mock import pick, service
from app.mock.report import attempt_history, mock_report
from app.models import Card, Interview, MockInterview, ReviewLog, User
from app.study import review
from app.study.interviews import delete_interview
from app.users.service import local_user
from tests.conftest import SEED

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
# The seed bank: 阿里国际 asked these three at 一面; four more share their LoRA/PEFT tags.
ALI_INTL = {"llm-sft-bc57451c", "llm-sft-0cd816d5", "llm-sft-624f78fb"}
SHARED_TOPIC = {"llm-sft-fdc9313d", "llm-sft-2e76f170", "llm-sft-573f2e6f", "llm-sft-7961b07f"}
LOSS_SPIKE = "llm-sft-ef418034"  # tags 训练稳定性, Loss 突增; key terms 梯度裁剪, 混合精度, ...
QLORA = "llm-sft-624f78fb"  # key terms 量化后的 LORA, 4-bit 量化, 4-bit, 4 倍


@pytest.fixture
def session(session_factory: sessionmaker[Session], content_dir: Path) -> Iterator[Session]:
    (content_dir / "llm-sft.md").write_bytes(SEED.read_bytes())
    with session_factory() as s:
        with s.begin():
            import_paths(s, paths=[content_dir], content_dir=content_dir, now=T0)
        yield s


@pytest.fixture
def user(session: Session) -> User:
    return local_user(session=session)


def start(session: Session, user: User, **kwargs: object) -> MockInterview:
    spec = service.MockSpec(**kwargs)  # type: ignore[arg-type]
    return service.create_mock(session=session, user=user, spec=spec, now=T0, seed=7)


def run_one(
    session: Session, user: User, mock: MockInterview, position: int, text: str, seconds: int
) -> None:
    """Show a question at T0 + position minutes and answer it ``seconds`` later."""
    shown = T0 + dt.timedelta(minutes=position)
    service.show(session=session, user=user, mock_id=mock.id, position=position, now=shown)
    service.answer(
        session=session,
        user=user,
        mock_id=mock.id,
        position=position,
        text=text,
        now=shown + seconds * SECOND,
    )


def test_a_company_mock_asks_its_questions_and_their_topics_first(
    session: Session, user: User
) -> None:
    pool = pick.candidates(session=session, user=user, company="阿里国际", stage="一面", now=T0)
    tiers = {c.question_id: c.tier for c in pool}
    assert {q for q, t in tiers.items() if t == 1} == ALI_INTL
    assert {q for q, t in tiers.items() if t == 3} == SHARED_TOPIC
    # Five questions: all from the company's seven; never from the rest of the bank.
    for seed in range(30):
        mock = service.create_mock(
            session=session,
            user=user,
            spec=service.MockSpec(company="阿里国际", stage="一面", count=5),
            now=T0,
            seed=seed,
        )
        assert {a.question_id for a in mock.attempts} <= ALI_INTL | SHARED_TOPIC
        assert len({a.question_id for a in mock.attempts}) == 5


def test_the_questions_the_company_asked_come_up_more_often(session: Session, user: User) -> None:
    pool = pick.candidates(session=session, user=user, company="阿里国际", stage="一面", now=T0)
    seen: Counter[str] = Counter()
    rng = random.Random(1)
    for _ in range(400):
        seen.update(c.question_id for c in pick.choose(pool, 2, rng))
    assert min(seen[q] for q in ALI_INTL) > 2 * max(seen[q] for q in SHARED_TOPIC)


def test_weak_topics_come_up_more_often(session: Session, user: User) -> None:
    # Two cards reviewed a month ago; the loss-spike one lapsed three times.
    for question_id in (LOSS_SPIKE, QLORA):
        review.rate(
            session=session,
            user=user,
            question_id=question_id,
            rating=3,
            version=0,
            duration_ms=None,
            now=T0 - dt.timedelta(days=30),
        )
    session.execute(update(Card).where(Card.question_id == LOSS_SPIKE).values(lapses=3))
    session.commit()
    pool = pick.candidates(session=session, user=user, company=None, stage=None, now=T0)
    weakness = {c.question_id: c.weakness for c in pool}
    assert weakness[LOSS_SPIKE] > 0.9  # 1 - R after a month, plus 0.2 a lapse
    assert weakness[QLORA] < weakness[LOSS_SPIKE]
    # QLORA's weakness spreads to its LoRA/PEFT topic: a new LoRA question inherits it.
    assert weakness["llm-sft-bc57451c"] == pytest.approx(weakness[QLORA])
    assert weakness["llm-sft-925e8308"] == 0.0  # SFT: no card of its topics
    seen: Counter[str] = Counter()
    rng = random.Random(2)
    for _ in range(600):
        seen.update(c.question_id for c in pick.choose(pool, 1, rng))
    assert seen[LOSS_SPIKE] > 2.5 * seen["llm-sft-925e8308"]


def test_the_interview_from_the_plan_sets_company_and_stage(session: Session, user: User) -> None:
    interview = Interview(
        user_id=user.id, company="阿里国际", stage="一面", date=dt.date(2026, 3, 9), created_at=T0
    )
    session.add(interview)
    session.commit()
    mock = start(session, user, interview_id=interview.id, count=3)
    assert (mock.company, mock.stage, mock.interview_id) == ("阿里国际", "一面", interview.id)
    assert len(mock.attempts) == 3
    with pytest.raises(NotFound) as missing:
        start(session, user, interview_id=interview.id + 1)
    assert missing.value.field == "interview_id"
    # Deleting the interview keeps the mock interview and its answers.
    delete_interview(session=session, user=user, interview_id=interview.id)
    session.refresh(mock)
    assert mock.interview_id is None and len(mock.attempts) == 3


def test_bad_choices_name_their_field(session: Session, user: User) -> None:
    for kwargs, field in (
        ({"count": 0}, "count"),
        ({"count": 21}, "count"),
        ({"minutes": 0}, "minutes"),
        ({"company": "Nowhere Inc"}, "company"),
    ):
        with pytest.raises(Unprocessable) as bad:
            start(session, user, **kwargs)
        assert bad.value.field == field
        assert field in bad.value.message or "Nowhere Inc" in bad.value.message
    # The bank's spelling is found up to case, width and spaces.
    assert start(session, user, company=" 阿里国际 ").company == "阿里国际"


def test_the_server_times_each_question_and_matches_key_points(
    session: Session, user: User
) -> None:
    mock = start(session, user, company="阿里国际", count=5, minutes=10)
    position = next(a.position for a in mock.attempts if a.question_id == QLORA)
    run_one(session, user, mock, position, "QLoRA 是量化后的 lora，用 4-bit 存权重", 150)
    attempt = mock.attempts[position]
    assert attempt.duration_ms == 150_000
    assert attempt.points == ["量化后的 LORA", "4-bit 量化", "4-bit", "4 倍"]
    assert attempt.matched == [True, False, True, False]
    # A second answer (double click, other tab) changes nothing; nor does showing again.
    service.answer(session=session, user=user, mock_id=mock.id, position=position, text="x", now=T0)
    service.show(session=session, user=user, mock_id=mock.id, position=position, now=T0)
    assert attempt.text is not None and attempt.text.startswith("QLoRA")
    assert attempt.duration_ms == 150_000


def test_grades_feed_the_flashcards_with_their_own_source(session: Session, user: User) -> None:
    mock = start(session, user, company="阿里国际", count=2)
    for position, rating in ((0, 1), (1, 4)):
        run_one(session, user, mock, position, "", 30)
        service.grade(
            session=session,
            user=user,
            mock_id=mock.id,
            position=position,
            rating=rating,
            covered=[],
            now=T0 + dt.timedelta(minutes=5),
        )
    logs = session.scalars(select(ReviewLog).order_by(ReviewLog.id)).all()
    assert [(log.question_id, log.rating, log.source) for log in logs] == [
        (mock.attempts[0].question_id, 1, "mock"),
        (mock.attempts[1].question_id, 4, "mock"),
    ]
    assert logs[0].duration_ms == 30_000
    cards = {c.question_id: c for c in session.scalars(select(Card))}
    assert cards[mock.attempts[1].question_id].due > cards[mock.attempts[0].question_id].due
    assert mock.finished_at is not None
    # Grading again changes nothing and records no second review.
    service.grade(
        session=session, user=user, mock_id=mock.id, position=0, rating=3, covered=[], now=T0
    )
    assert mock.attempts[0].rating == 1
    assert len(session.scalars(select(ReviewLog)).all()) == 2


def test_grades_leave_the_cards_alone_when_quizzes_do_not_feed_reviews(
    session: Session, user: User
) -> None:
    user.quiz_feeds_reviews = False
    session.commit()
    mock = start(session, user, count=1)
    run_one(session, user, mock, 0, "answer", 5)
    service.grade(
        session=session, user=user, mock_id=mock.id, position=0, rating=1, covered=[], now=T0
    )
    assert mock.attempts[0].rating == 1
    assert session.scalars(select(ReviewLog)).all() == []


def test_grading_refuses_what_does_not_fit(session: Session, user: User) -> None:
    mock = start(session, user, company="阿里国际", count=5)
    position = next(a.position for a in mock.attempts if a.question_id == QLORA)
    with pytest.raises(Conflict) as early:
        service.grade(
            session=session, user=user, mock_id=mock.id, position=position, rating=3,
            covered=[], now=T0,
        )  # fmt: skip
    assert early.value.field == "position"
    run_one(session, user, mock, position, "", 5)
    for rating, covered, field in ((5, [], "rating"), (True, [], "rating"), (3, [4], "covered")):
        with pytest.raises(Unprocessable) as bad:
            service.grade(
                session=session, user=user, mock_id=mock.id, position=position,
                rating=rating, covered=covered, now=T0,
            )  # fmt: skip
        assert bad.value.field == field
    with pytest.raises(NotFound) as gone:
        service.get_mock(session=session, user=user, mock_id=mock.id + 1)
    assert gone.value.field == "mock_id"


def test_the_report_sums_times_points_topics_and_what_to_review(
    session: Session, user: User
) -> None:
    mock = start(session, user, company="阿里国际", count=5, minutes=10)  # 2 minutes each
    by_id = {a.question_id: a.position for a in mock.attempts}
    assert QLORA in by_id
    texts = {QLORA: "量化后的 LORA 与 4-bit"}
    for attempt in mock.attempts:
        seconds = 200 if attempt.question_id == QLORA else 60
        run_one(session, user, mock, attempt.position, texts.get(attempt.question_id, ""), seconds)
    for attempt in mock.attempts:
        if attempt.question_id == QLORA:  # matched 0 and 2, ticked 3 by hand too
            rating, covered = 3, [0, 2, 3]
        else:
            rating, covered = 1, []
        service.grade(
            session=session, user=user, mock_id=mock.id, position=attempt.position,
            rating=rating, covered=covered, now=T0 + dt.timedelta(hours=1),
        )  # fmt: skip
    report = mock_report(session=session, user=user, mock_id=mock.id)
    assert report.finished
    assert report.seconds == 200 + 4 * 60
    assert report.share_s == 120
    qlora = report.items[by_id[QLORA]]
    assert (qlora.seconds, qlora.over, qlora.covered, qlora.points) == (200, True, 3, 4)
    assert [i.over for i in report.items].count(True) == 1
    assert report.covered == 3
    assert report.points == sum(len(a.points) for a in mock.attempts)
    # Everything but QLoRA was graded Again: those are to review, QLoRA is not.
    assert {i.question_id for i in report.review_next} == set(by_id) - {QLORA}
    # QLORA's own tag is the strongest: it is not among the three weakest.
    assert "QLORA" not in [t.tag for t in report.weakest]
    assert len(report.weakest) == 3
    assert all(t.score < 0.5 for t in report.weakest)


def test_a_question_keeps_the_history_of_every_attempt(session: Session, user: User) -> None:
    first = start(session, user, company="阿里国际", count=5)
    position = next(a.position for a in first.attempts if a.question_id == QLORA)
    run_one(session, user, first, position, "第一次：4-bit", 40)
    second = service.create_mock(
        session=session,
        user=user,
        spec=service.MockSpec(company="阿里国际", count=5),
        now=T0 + dt.timedelta(days=1),
        seed=8,
    )
    later = next(a.position for a in second.attempts if a.question_id == QLORA)
    service.show(
        session=session, user=user, mock_id=second.id, position=later,
        now=T0 + dt.timedelta(days=1),
    )  # fmt: skip
    service.answer(
        session=session, user=user, mock_id=second.id, position=later,
        text="第二次：量化后的 LORA，4-bit", now=T0 + dt.timedelta(days=1, seconds=75),
    )  # fmt: skip
    history = attempt_history(session=session, user=user, question_id=QLORA)
    assert [(h.mock_id, h.seconds, h.covered, h.points) for h in history] == [
        (second.id, 75, 2, 4),
        (first.id, 40, 1, 4),
    ]
    assert history[0].text.startswith("第二次") and history[1].text.startswith("第一次")
    assert history[0].company == "阿里国际"
    # Only answered attempts: the other questions of these mocks have no history.
    other = next(a.question_id for a in first.attempts if a.question_id != QLORA)
    assert attempt_history(session=session, user=user, question_id=other) == []


@pytest.mark.postgres
def test_a_mock_interview_on_postgresql(pg_url: str, tmp_path: Path, content_dir: Path) -> None:
    (content_dir / "llm-sft.md").write_bytes(SEED.read_bytes())
    engine = make_engine(Settings(database_url=pg_url, data_dir=tmp_path))
    try:
        migrate(engine)
        with make_sessionmaker(engine)() as session:
            with session.begin():
                import_paths(session, paths=[content_dir], content_dir=content_dir, now=T0)
            user = local_user(session=session)
            mock = start(session, user, company="阿里国际", stage="一面", count=5)
            position = next(a.position for a in mock.attempts if a.question_id == QLORA)
            run_one(session, user, mock, position, "量化后的 LORA", 30)
            service.grade(
                session=session, user=user, mock_id=mock.id, position=position, rating=2,
                covered=[0, 1], now=T0 + dt.timedelta(minutes=10),
            )  # fmt: skip
            log = session.scalars(select(ReviewLog)).one()
            assert (log.question_id, log.rating, log.source) == (QLORA, 2, "mock")
            report = mock_report(session=session, user=user, mock_id=mock.id)
            assert [i.question_id for i in report.review_next] == [QLORA]
            history = attempt_history(session=session, user=user, question_id=QLORA)
            assert [(h.covered, h.points, h.seconds) for h in history] == [(2, 4, 30)]
    finally:
        engine.dispose()
