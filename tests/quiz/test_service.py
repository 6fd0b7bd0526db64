"""Quizzes over the seed bank: slices, resuming, grading into results, feeding reviews."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.content.filters import QuestionFilter
from app.content.importer import import_paths
from app.errors import Unprocessable
from app.models import Asked, Card, Question, Quiz, ReviewLog, User
from app.quiz import service
from app.quiz.grade import plain_text
from app.quiz.results import quiz_results
from app.users.service import local_user
from tests.conftest import SEED

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)


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


def spec(**kwargs: object) -> service.QuizSpec:
    flt = kwargs.pop("flt", QuestionFilter())
    return service.QuizSpec(flt=flt, **kwargs)  # type: ignore[arg-type]


def right_response(item: object) -> dict[str, object]:
    """The response that grades as correct for an item."""
    payload = item.payload  # type: ignore[attr-defined]
    kind = item.type  # type: ignore[attr-defined]
    if kind == "takeaway":
        return {"choice": payload["answer"]}
    if kind == "cloze":
        return {"text": payload["answer"]}
    return {"text": "…", "self_grade": True}


def test_a_quiz_over_a_company_and_topic_holds_only_such_questions(
    session: Session, user: User
) -> None:
    flt = QuestionFilter(company=("阿里",), tag=("LoRA",))
    quiz = service.create_quiz(session=session, user=user, spec=spec(flt=flt, count=10), now=T0)
    assert len(quiz.items) == 2  # 阿里 (not 阿里国际) asked two LoRA questions
    for item in quiz.items:
        companies = session.scalars(
            select(Asked.company).where(Asked.question_id == item.question_id)
        ).all()
        question = session.get(Question, item.question_id)
        assert "阿里" in companies
        assert question is not None and "lora" in [link.tag.key for link in question.tag_links]
    assert len({i.question_id for i in quiz.items}) == 2  # never repeats


def test_the_same_seed_gives_the_same_quiz(session: Session, user: User) -> None:
    first = service.create_quiz(session=session, user=user, spec=spec(count=5), now=T0, seed=7)
    again = service.create_quiz(session=session, user=user, spec=spec(count=5), now=T0, seed=7)
    shape = [(i.question_id, i.type, i.payload) for i in first.items]
    assert shape == [(i.question_id, i.type, i.payload) for i in again.items]
    assert len(shape) == 5


def test_types_are_honoured_when_they_can_be_built(session: Session, user: User) -> None:
    quiz = service.create_quiz(
        session=session, user=user, spec=spec(count=10, types=("takeaway",)), now=T0, seed=1
    )
    by_title = {session.get(Question, i.question_id).title: i for i in quiz.items}  # type: ignore[union-attr]
    # The one question without a takeaway is left out: an unticked kind never appears.
    assert "LORA的原理" not in by_title and len(by_title) == 9
    assert {i.type for i in by_title.values()} == {"takeaway"}
    # A slice none of whose questions fits the ticked kinds says which field to change.
    only = QuestionFilter(q="LORA的原理")
    with pytest.raises(Unprocessable) as err:
        service.create_quiz(
            session=session, user=user, spec=spec(flt=only, types=("takeaway",)), now=T0
        )
    assert err.value.field == "types"


def test_bad_specs_name_the_field(session: Session, user: User) -> None:
    for bad, field in [
        (spec(count=0), "count"),
        (spec(types=()), "types"),
        (spec(flt=QuestionFilter(company=("无此公司",))), "filter"),
    ]:
        with pytest.raises(Unprocessable) as err:
            service.create_quiz(session=session, user=user, spec=bad, now=T0)
        assert err.value.field == field


def test_answers_are_saved_so_the_quiz_resumes(session: Session, user: User) -> None:
    quiz = service.create_quiz(session=session, user=user, spec=spec(count=3), now=T0, seed=3)
    first = quiz.items[0]
    service.answer_item(
        session=session,
        user=user,
        quiz_id=quiz.id,
        position=0,
        response=right_response(first),
        now=T0,
    )
    session.expunge_all()  # "closing the tab": read it back fresh
    again = service.get_quiz(session=session, user=user, quiz_id=quiz.id)
    current = service.current_item(again)
    assert current is not None and current.position == 1
    # Answering an answered item changes nothing.
    item = service.answer_item(
        session=session, user=user, quiz_id=quiz.id, position=0, response={"text": ""}, now=T0
    )
    assert item.correct is True


def test_results_and_wrong_answers_feed_the_review_schedule(session: Session, user: User) -> None:
    quiz = service.create_quiz(session=session, user=user, spec=spec(count=3), now=T0, seed=5)
    wrong = quiz.items[1]
    for item in quiz.items:
        response = right_response(item) if item is not wrong else {"text": "", "self_grade": False}
        if item is wrong and item.type == "takeaway":
            response = {"choice": (item.payload["answer"] + 1) % 4}
        service.answer_item(
            session=session,
            user=user,
            quiz_id=quiz.id,
            position=item.position,
            response=response,
            now=T0 + dt.timedelta(minutes=3),
        )
    results = quiz_results(session=session, user=user, quiz_id=quiz.id, now=T0)
    assert (results.correct, results.total, results.finished) == (2, 3, True)
    assert results.seconds == 180
    assert [m.question_id for m in results.mistakes] == [wrong.question_id]
    assert sum(a.total for a in results.per_company) >= 3
    assert [t.quiz_id for t in results.trend] == [quiz.id]
    logs = session.scalars(select(ReviewLog)).all()
    assert [(log.question_id, log.rating, log.source) for log in logs] == [
        (wrong.question_id, 1, "quiz")
    ]


def test_the_setting_keeps_quizzes_out_of_the_schedule(session: Session, user: User) -> None:
    user.quiz_feeds_reviews = False
    session.commit()
    quiz = service.create_quiz(session=session, user=user, spec=spec(count=1), now=T0)
    service.answer_item(
        session=session,
        user=user,
        quiz_id=quiz.id,
        position=0,
        response={"text": "", "choice": None, "self_grade": False},
        now=T0,
    )
    assert session.scalars(select(ReviewLog)).all() == []
    assert session.scalars(select(Quiz)).one().feeds_reviews is False


def test_weakest_and_due_soon_slices(session: Session, user: User) -> None:
    with pytest.raises(Unprocessable):  # nothing is weak or due yet
        service.create_quiz(session=session, user=user, spec=spec(focus="weakest"), now=T0)
    quiz = service.create_quiz(session=session, user=user, spec=spec(count=2), now=T0, seed=9)
    service.answer_item(
        session=session,
        user=user,
        quiz_id=quiz.id,
        position=0,
        response={"text": "", "self_grade": False, "choice": 99},
        now=T0,
    )
    weak = service.create_quiz(session=session, user=user, spec=spec(focus="weakest"), now=T0)
    assert [i.question_id for i in weak.items] == [quiz.items[0].question_id]
    # The wrong answer made an Again card due in minutes: it is due soon.
    soon = service.create_quiz(session=session, user=user, spec=spec(focus="due_soon"), now=T0)
    assert [i.question_id for i in soon.items] == [quiz.items[0].question_id]


def test_two_concurrent_answers_record_the_first(
    session_factory: sessionmaker[Session], session: Session, user: User
) -> None:
    quiz = service.create_quiz(session=session, user=user, spec=spec(count=1), now=T0, seed=2)
    item = quiz.items[0]
    # A second tab loaded the same quiz before the first answer was saved.
    with session_factory() as other:
        other_user = other.get(User, user.id)
        assert other_user is not None
        stale = service.get_quiz(session=other, user=other_user, quiz_id=quiz.id)
        assert stale.items[0].answered_at is None
        service.answer_item(
            session=session,
            user=user,
            quiz_id=quiz.id,
            position=0,
            response=right_response(item),
            now=T0,
        )
        second = service.answer_item(
            session=other,
            user=other_user,
            quiz_id=quiz.id,
            position=0,
            response={"text": "", "self_grade": False, "choice": 99},
            now=T0,
        )
        assert second.correct is True  # the first answer stands


# Two more questions with a key term (short bold) inside their takeaway, blanked before
# any salient term of it.
CLOZE_FILE = """# 训练技巧

## 1. 稳定

### Q. 训练发散时先做什么？
> **Company**: 美团 | **Round**: 一面 | **Date**: 2025-08-31 | **Tags**: [训练]

先用 **学习率预热** 让前几百步的更新变小。

<mark>发散时先加学习率预热。</mark>

### Q. 显存不够时先做什么？
> **Company**: 快手 | **Round**: 一面 | **Date**: 2025-09-01 | **Tags**: [训练]

可以用 **激活重计算** 换掉一部分显存。

<mark>显存不够就用激活重计算。</mark>
"""


def test_a_near_miss_in_a_cloze_rates_hard_and_never_resets_the_card(
    session: Session, user: User, content_dir: Path
) -> None:
    (content_dir / "tricks.md").write_text(CLOZE_FILE, encoding="utf-8")
    with session.begin():
        import_paths(session, paths=[content_dir], content_dir=content_dir, now=T0)
    quiz = service.create_quiz(
        session=session, user=user, spec=spec(count=3, types=("cloze",)), now=T0, seed=2
    )
    assert len(quiz.items) == 3 and {i.type for i in quiz.items} == {"cloze"}
    near, wrong = quiz.items[0], quiz.items[1]
    answer = str(near.payload["answer"])
    slip = answer[:-1] + ("x" if answer[-1] != "x" else "y")  # one character off
    for item, text in ((near, slip), (wrong, "完全不对的答案")):
        service.answer_item(
            session=session,
            user=user,
            quiz_id=quiz.id,
            position=item.position,
            response={"text": text},
            now=T0,
        )
    assert (near.verdict, wrong.verdict) == ("near", "wrong")
    ratings = {log.question_id: log.rating for log in session.scalars(select(ReviewLog))}
    assert ratings == {near.question_id: 2, wrong.question_id: 1}  # Hard, Again
    card = session.scalar(select(Card).where(Card.question_id == near.question_id))
    assert card is not None and card.lapses == 0


def test_results_show_what_was_answered_beside_the_right_answer(
    session: Session, user: User
) -> None:
    quiz = service.create_quiz(
        session=session, user=user, spec=spec(count=4, types=("takeaway", "cloze")), now=T0, seed=3
    )
    for item in quiz.items:
        if item.type == "takeaway":
            response: dict[str, object] = {"choice": (item.payload["answer"] + 1) % 4}
        else:
            response = {"text": "我的猜测"}
        service.answer_item(
            session=session,
            user=user,
            quiz_id=quiz.id,
            position=item.position,
            response=response,
            now=T0,
        )
    results = quiz_results(session=session, user=user, quiz_id=quiz.id, now=T0)
    assert len(results.mistakes) == 4
    for m, item in zip(results.mistakes, quiz.items, strict=True):
        if item.type == "cloze":
            assert m.given == "我的猜测" and m.expected == item.payload["answer"]
        else:
            chosen = item.payload["choices"][(item.payload["answer"] + 1) % 4]["html"]
            assert m.given == plain_text(chosen) and m.given != m.expected
