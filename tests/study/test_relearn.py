"""A re-import that changes an answer substantially marks every user's card of it; a
typo fix or a re-wrapped paragraph does not. Relearning starts the card over (history
kept, undo of an older review refused); keeping the schedule only clears the mark."""

from __future__ import annotations

from pathlib import Path

import pytest
from fsrs import Rating, State
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.content.changes import SAME_ANSWER_RATIO, answer_changed, similarity
from app.errors import Conflict, NotFound
from app.models import Card, ReviewLog, User
from app.study import relearn, review
from tests.conftest import WriteMd
from tests.study.conftest import ALL, CHAPTER_A, DAY, MINUTE, T0, load, qid, rate

ANSWER = (
    "LoRA 冻结预训练权重，把权重更新分解为两个低秩矩阵 B 和 A 的乘积，只训练这两个矩阵。"
    "推理时可以把 BA 合并回原权重，没有额外延迟。<mark>秩 r 越小，可训练参数越少。</mark>"
)
TYPO = ANSWER.replace("额外延迟", "额外的延迟").replace("乘积", "成绩")
REWRAPPED = ANSWER.replace("，把", "，\n把").replace("。推理", "。\n推理")
REWRITTEN = (
    "Adapter 在每层插入一个瓶颈结构的小网络：先降维再升维，中间加非线性。"
    "它增加了推理延迟，因为多了串行的计算。<mark>秩 r 越小，可训练参数越少。</mark>"
)
NEW_TAKEAWAY = ANSWER.replace("秩 r 越小，可训练参数越少。", "全量微调总是更好。")


def test_the_measure_is_by_characters_and_ignores_whitespace() -> None:
    assert similarity(ANSWER, REWRAPPED) == 1.0
    assert similarity(ANSWER, TYPO) > 0.95
    assert similarity(ANSWER, REWRITTEN) < SAME_ANSWER_RATIO
    assert similarity(None, None) == 1.0 and similarity(None, "新的") == 0.0
    assert not answer_changed(ANSWER, "秩越小参数越少", TYPO, "秩越小，参数越少")
    assert answer_changed(ANSWER, None, REWRITTEN, None)
    # The takeaway alone changing is enough: the long answer around it stayed.
    assert answer_changed(ANSWER, "秩 r 越小，可训练参数越少。", NEW_TAKEAWAY, "全量微调总是更好。")


def chapter(answer: str) -> str:
    return CHAPTER_A.replace("答案一", answer)


@pytest.fixture
def learned(
    session_factory: sessionmaker[Session],
    session: Session,
    user: User,
    write_md: WriteMd,
    content_dir: Path,
) -> str:
    """问题一 with a real answer, learned (Easy) by the local user and another one."""
    write_md("a.md", chapter(ANSWER))
    load(session_factory, content_dir, now=T0)
    q = qid(session, "问题一")
    rate(session, user, q, Rating.Easy, T0)
    other = User(username="other")
    session.add(other)
    session.commit()
    rate(session, other, q, Rating.Easy, T0, version=0)
    return q


def my_card(session: Session, user: User, question_id: str) -> Card:
    session.expire_all()
    return session.scalars(
        select(Card).where(Card.user_id == user.id, Card.question_id == question_id)
    ).one()


def reimport(
    session_factory: sessionmaker[Session], write_md: WriteMd, content_dir: Path, answer: str
) -> None:
    write_md("a.md", chapter(answer))
    load(session_factory, content_dir, now=T0 + DAY)


def marks(session: Session, question_id: str) -> list[object]:
    session.expire_all()
    return list(
        session.scalars(
            select(Card.answer_changed_at)
            .where(Card.question_id == question_id)
            .order_by(Card.user_id)
        )
    )


@pytest.mark.parametrize("edit", [TYPO, REWRAPPED])
def test_a_small_edit_does_not_mark_the_card(
    session_factory: sessionmaker[Session],
    session: Session,
    learned: str,
    write_md: WriteMd,
    content_dir: Path,
    edit: str,
) -> None:
    reimport(session_factory, write_md, content_dir, edit)
    assert marks(session, learned) == [None, None]


@pytest.mark.parametrize("edit", [REWRITTEN, NEW_TAKEAWAY])
def test_a_substantial_change_marks_every_users_card(
    session_factory: sessionmaker[Session],
    session: Session,
    user: User,
    learned: str,
    write_md: WriteMd,
    content_dir: Path,
    edit: str,
) -> None:
    reimport(session_factory, write_md, content_dir, edit)
    assert marks(session, learned) == [T0 + DAY, T0 + DAY]
    assert relearn.answer_changed_at(session=session, user=user, question_id=learned) == T0 + DAY
    # Other questions' cards are left alone.
    other = qid(session, "问题二")
    rate(session, user, other, Rating.Good, T0 + DAY)
    assert marks(session, other) == [None]


def test_relearn_starts_the_card_over_and_keeps_its_history(
    session_factory: sessionmaker[Session],
    session: Session,
    user: User,
    learned: str,
    write_md: WriteMd,
    content_dir: Path,
) -> None:
    before = my_card(session, user, learned)
    assert before.state == State.Review
    version, reps = before.version, before.reps
    reimport(session_factory, write_md, content_dir, REWRITTEN)
    now = T0 + 2 * DAY
    assert relearn.relearn(session=session, user=user, question_id=learned, now=now)
    row = my_card(session, user, learned)
    assert (row.state, row.due, row.fsrs["step"], row.fsrs["stability"]) == (
        State.Learning,
        now,
        0,
        None,
    )
    assert (row.version, row.reps, row.answer_changed_at) == (version + 1, reps, None)
    logs = session.scalar(select(func.count(ReviewLog.id)).where(ReviewLog.user_id == user.id))
    assert logs == 1  # the history stays
    # A second click does nothing; the other user's card is still marked.
    assert not relearn.relearn(session=session, user=user, question_id=learned, now=now)
    assert marks(session, learned)[1] == T0 + DAY
    # The old review can't be undone over the reset, so pages don't offer it.
    assert not review.can_undo(session=session, user=user)
    with pytest.raises(Conflict, match="changed after it"):
        review.undo_last(session=session, user=user, now=now)
    # The queue shows it at once, as a learning card, without using up a new card.
    user.new_per_day = 1
    session.commit()
    shown = review.next_card(session=session, user=user, flt=ALL, now=now)
    assert shown is not None and shown.question_id == learned
    assert shown.state == State.Learning and shown.version == version + 1
    result = rate(session, user, learned, Rating.Good, now + MINUTE, version=version + 1)
    assert result.state == State.Learning and not result.duplicate
    assert review.can_undo(session=session, user=user)  # the new review can be undone
    counts = review.queue_counts(session=session, user=user, flt=ALL, now=now + MINUTE)
    assert (counts.reviewed_today, counts.new_left_today) == (1, 1)


def test_keep_clears_the_mark_and_nothing_else(
    session_factory: sessionmaker[Session],
    session: Session,
    user: User,
    learned: str,
    write_md: WriteMd,
    content_dir: Path,
) -> None:
    reimport(session_factory, write_md, content_dir, REWRITTEN)
    before = my_card(session, user, learned)
    kept = (before.fsrs, before.due, before.version)
    assert relearn.keep_schedule(session=session, user=user, question_id=learned)
    row = my_card(session, user, learned)
    assert (row.fsrs, row.due, row.version) == kept
    assert row.answer_changed_at is None
    assert not relearn.keep_schedule(session=session, user=user, question_id=learned)
    assert not relearn.relearn(session=session, user=user, question_id=learned, now=T0 + DAY)
    with pytest.raises(NotFound, match="no card"):
        relearn.keep_schedule(session=session, user=user, question_id=qid(session, "问题五"))
