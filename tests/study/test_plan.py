"""The interview plan: tiers, the even spread, pulled-forward cards and new-card order
on hand-made sets (pure functions); the daily need and the over-limit warning; then the
queue serving that order through ``review.next_card`` on a real database, leeches left
out of the queue, and the interview services (bank spellings, 422s naming the field)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from fsrs import Rating, State
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import make_engine, make_sessionmaker, migrate
from app.errors import NotFound, Unprocessable
from app.models import Card, Interview, User
from app.study import interviews, plan, review
from app.study.plan import CardView, Focus, Target
from app.users.service import local_user
from tests.conftest import WriteMd
from tests.study.conftest import (
    ALL,
    CHAPTER_A,
    CHAPTER_B,
    DAY,
    MINUTE,
    T0,
    card_row,
    load,
    qid,
    rate,
)

# A hand-made interview on day 10, added at T0: tiers of questions a-f, g outside.
DAY0 = T0.date()
INTERVIEW = T0.replace(hour=0) + 10 * DAY


def hand_focus(order: list[str] | None = None) -> Focus:
    tiers = {"a": 1, "b": 2, "c": 2, "d": 3, "e": 3, "f": 1}
    order = order or plan.focus_order(["a", "b", "c", "d", "e", "f", "g"], tiers)
    days = plan.spread(order, first=DAY0, interview=INTERVIEW.date())
    target = Target(
        interview_id=1,
        company="阿里",
        role=None,
        stage="一面",
        day=INTERVIEW.date(),
        starts=INTERVIEW,
        planned_at=T0,
    )
    starts = {q: dt.datetime.combine(d, dt.time(0), tzinfo=dt.UTC) for q, d in days.items()}
    return Focus(target=target, tiers=tiers, pull_to=starts)


def review_card(
    q: str, due: dt.datetime, last: dt.datetime, card_id: int, state: int = State.Review
) -> CardView:
    return CardView(question_id=q, card_id=card_id, state=state, due=due, last_review=last)


def test_tiers_stage_then_company_then_shared_topics() -> None:
    asked = [("a", "一面"), ("b", "二面"), ("c", None), ("f", "二面"), ("f", " 一面")]
    related = ["a", "b", "d", "e"]
    tiers = plan.question_tiers(asked=asked, related=related, stage="一面")
    # f was asked at both stages: its best tier counts; a stage spelled with a space is one.
    assert tiers == {"a": 1, "b": 2, "c": 2, "f": 1, "d": 3, "e": 3}
    # Without a stage, every question the company asked is tier 1.
    assert plan.question_tiers(asked=asked, related=related, stage=None) == {
        "a": 1,
        "b": 1,
        "c": 1,
        "f": 1,
        "d": 3,
        "e": 3,
    }


def test_questions_are_spread_evenly_over_the_days_before_the_interview() -> None:
    order = plan.focus_order(["a", "b", "c", "d", "e", "f", "g"], hand_focus().tiers)
    assert order == ["a", "f", "b", "c", "d", "e"]  # by tier, bank order within one
    days = plan.spread(order, first=DAY0, interview=DAY0 + dt.timedelta(days=3))
    assert [(days[q] - DAY0).days for q in order] == [0, 0, 1, 1, 2, 2]
    # Interview today: nothing before it, so all today.
    assert set(plan.spread(order, first=DAY0, interview=DAY0).values()) == {DAY0}


def test_due_cards_by_tier_and_cards_due_after_the_interview_pulled_before_it() -> None:
    focus = hand_focus()  # spread of a, f, b, c, d, e over 10 days: days 0, 1, 3, 5, 6, 8
    before = T0 - 5 * DAY  # reviewed before the interview was added
    cards = [
        review_card("g", T0 - DAY, before, 1),  # tier 4, overdue
        review_card("e", T0 + 30 * DAY, before, 2),  # tier 3, after the interview: day 8
        review_card("b", T0 + 30 * DAY, before, 3),  # tier 2, after the interview: day 3
        review_card("a", T0 + 30 * DAY, before, 4),  # tier 1, after the interview: day 0
        review_card("c", T0 + 30 * DAY, T0 + MINUTE, 5),  # seen since it was added: kept
        review_card("d", T0 + 2 * DAY, before, 6),  # before the interview: its own date
        review_card("f", T0 - 2 * DAY, before, 7),  # tier 1, overdue
        CardView(question_id="h"),  # new: never "due"
    ]
    by_id = {c.question_id: c for c in cards}
    assert plan.effective_due(by_id["a"], focus) == T0.replace(hour=0)
    assert plan.effective_due(by_id["b"], focus) == T0.replace(hour=0) + 3 * DAY
    assert plan.effective_due(by_id["c"], focus) == T0 + 30 * DAY
    assert plan.effective_due(by_id["d"], focus) == T0 + 2 * DAY
    assert not plan.pulled(by_id["g"], focus)

    def served(day: int) -> list[str]:
        now = T0 + day * DAY
        end = now.replace(hour=0) + DAY
        return [c.question_id for c in plan.due_order(cards, focus, now=now, day_end=end)]

    assert served(0) == ["f", "a", "g"]
    assert served(2) == ["f", "a", "d", "g"]
    assert served(3) == ["f", "a", "b", "d", "g"]
    assert served(8) == ["f", "a", "b", "d", "e", "g"]


def test_learning_cards_keep_their_minutes() -> None:
    focus = hand_focus()
    learning = review_card("b", T0 + 5 * MINUTE, T0, 1, state=State.Learning)
    end = T0.replace(hour=0) + DAY
    assert plan.due_order([learning], focus, now=T0, day_end=end) == []
    assert plan.due_order([learning], focus, now=T0 + 5 * MINUTE, day_end=end) == [learning]


def test_on_the_interview_day_cards_due_after_it_come_today() -> None:
    midnight = T0.replace(hour=0)
    target = Target(
        interview_id=1,
        company="阿里",
        role=None,
        stage=None,
        day=DAY0,
        starts=midnight,
        planned_at=T0 - DAY,
    )
    days = plan.spread(["a"], first=DAY0, interview=DAY0)
    assert days == {"a": DAY0}  # no day before it: today
    focus = Focus(target=target, tiers={"a": 1}, pull_to={"a": midnight})
    card = review_card("a", T0 + 30 * DAY, T0 - 5 * DAY, 1)
    assert plan.due_order([card], focus, now=T0, day_end=midnight + DAY) == [card]
    view = plan.summarize(
        [card],
        focus,
        today=DAY0,
        day_start=midnight,
        day_end=midnight + DAY,
        new_quota=20,
        new_limit=20,
    )
    assert (view.days_to, view.days_left, view.to_see, view.today_left) == (0, 1, 1, 1)


def test_new_cards_of_tiers_1_and_2_first_then_bank_order() -> None:
    assert plan.new_order(["g", "d", "c", "a", "h", "b", "f"], hand_focus()) == [
        "a",
        "f",
        "c",
        "b",
        "g",
        "d",
        "h",
    ]


def summary(
    cards: list[CardView], *, now: dt.datetime, quota: int = 20, limit: int = 20
) -> plan.Plan:
    start = now.replace(hour=0)
    return plan.summarize(
        cards,
        hand_focus(),
        today=now.date(),
        day_start=start,
        day_end=start + DAY,
        new_quota=quota,
        new_limit=limit,
    )


def test_the_daily_need_and_the_warning_over_the_new_card_limit() -> None:
    before = T0 - 5 * DAY
    cards = [
        CardView(question_id="a"),  # new, tier 1
        CardView(question_id="b"),  # new, tier 2
        CardView(question_id="d"),  # new, tier 3: not needed before the interview
        review_card("c", T0 + 30 * DAY, before, 1),  # pulled forward: to see
        review_card("e", T0 + 3 * DAY, before, 2),  # due before the interview: to see
        review_card("f", T0 + 30 * DAY, T0 + MINUTE, 3),  # seen since added: not needed
        review_card("g", T0 - DAY, before, 4),  # not the interview's
    ]
    view = summary(cards, now=T0 + 2 * DAY)
    assert (view.days_to, view.days_left, view.tier_counts) == (8, 8, (2, 2, 2))
    assert (view.to_see, view.new_to_see) == (4, 2)
    assert (view.daily_need, view.new_need, view.over_limit) == (1, 1, False)
    # Today the queue has a and b (new); c is pulled to day 5, e due on day 3.
    assert (view.today_needed, view.today_done, view.today_left) == (1, 0, 1)

    # 25 new interview questions over 10 days is 3 a day: over a limit of 2.
    many = [CardView(question_id=f"n{i}") for i in range(25)]
    tiers = {c.question_id: 1 for c in many}
    focus = Focus(target=hand_focus().target, tiers=tiers, pull_to={})
    now = T0 + MINUTE
    start = now.replace(hour=0)
    crowded = plan.summarize(
        many,
        focus,
        today=now.date(),
        day_start=start,
        day_end=start + DAY,
        new_quota=2,
        new_limit=2,
    )
    assert (crowded.daily_need, crowded.new_need, crowded.new_limit) == (3, 3, 2)
    assert crowded.over_limit
    # The queue can introduce only 2 new cards today: that is all today's plan asks.
    assert (crowded.today_needed, crowded.today_left) == (2, 2)
    # The interview tomorrow: one day left, all 25 needed today.
    soon = dataclasses.replace(hand_focus().target, day=now.date() + dt.timedelta(days=1))
    tomorrow = Focus(target=soon, tiers=tiers, pull_to={})
    rushed = plan.summarize(
        many,
        tomorrow,
        today=now.date(),
        day_start=start,
        day_end=start + DAY,
        new_quota=20,
        new_limit=20,
    )
    assert (rushed.days_left, rushed.daily_need, rushed.today_needed) == (1, 25, 20)


def test_the_plan_holds_still_while_the_user_reviews() -> None:
    before = T0 - 5 * DAY
    now = T0 + 2 * MINUTE
    cards = [CardView(question_id=q) for q in "abcf"] + [
        review_card("e", T0 + 3 * DAY, before, 2),
    ]
    first = summary(cards, now=now)
    assert (first.to_see, first.daily_need, first.today_done) == (5, 1, 0)
    # a was learned (due again in 10 minutes) and e reviewed: both done today.
    reviewed = [
        CardView("a", 8, State.Learning, now + 10 * MINUTE, now, now),
        *cards[1:4],
        review_card("e", T0 + 9 * DAY, now, 2),
    ]
    later = summary(reviewed, now=now + MINUTE)
    assert (later.to_see, later.daily_need) == (first.to_see, first.daily_need)
    assert (later.today_done, later.today_left) == (2, 0)


# The real queue: the study bank (阿里 一面 问题一 [LoRA, PEFT]; 美团 二面 问题二 [LORA];
# 阿里 二面 问题三 [RLHF]; 腾讯 问题四 and 快手 问题五 [量化]).


def add(session: Session, user: User, days: int, *, now: dt.datetime = T0, **kw: str) -> Interview:
    fields: dict[str, str | None] = {"company": "阿里", "role": None, "stage": "二面"}
    fields |= kw
    return interviews.add_interview(
        session=session,
        user=user,
        company=fields["company"],
        role=fields["role"],
        stage=fields["stage"],
        date=now.date() + dt.timedelta(days=days),
        now=now,
    )


def serve_all(session: Session, user: User, now: dt.datetime) -> list[str]:
    titles = {qid(session, f"问题{n}"): f"问题{n}" for n in "一二三四五"}
    served = []
    while shown := review.next_card(session=session, user=user, flt=ALL, now=now):
        served.append(titles[shown.question_id])
        rate(session, user, shown.question_id, Rating.Easy, now)
    return served


def test_new_cards_come_interview_first(session: Session, user: User) -> None:
    add(session, user, 30)
    # 阿里 二面 asked 问题三 (tier 1), 阿里 一面 问题一 (tier 2); 问题二 shares LoRA (tier 3).
    assert serve_all(session, user, T0) == ["问题三", "问题一", "问题二", "问题四", "问题五"]


def test_without_an_interview_new_cards_keep_bank_order(session: Session, user: User) -> None:
    past = add(session, user, 0, now=T0 - 3 * DAY)  # three days ago: no longer upcoming
    assert past.date < T0.date()
    assert serve_all(session, user, T0) == ["问题一", "问题二", "问题三", "问题四", "问题五"]


def test_due_cards_come_by_tier(session: Session, user: User) -> None:
    # Learned ten days apart, so due in this order whatever the fuzz: the interview's
    # questions still come first, by tier.
    for days, n in ((0, "五"), (10, "四"), (10, "二"), (10, "一"), (20, "三")):
        rate(session, user, qid(session, f"问题{n}"), Rating.Easy, T0 + days * DAY)
    add(session, user, 90, now=T0 + DAY)
    assert serve_all(session, user, T0 + 60 * DAY) == [
        "问题三",
        "问题一",
        "问题二",
        "问题五",
        "问题四",
    ]


def test_cards_due_after_the_interview_are_pulled_before_it(session: Session, user: User) -> None:
    user.new_per_day = 0
    session.commit()
    for n in "一二三四五":
        rate(session, user, qid(session, f"问题{n}"), Rating.Easy, T0 - DAY)
    add(session, user, 4)  # the interview on day 4; its 3 questions spread over days 0-2
    interview_day = T0.replace(hour=0) + 4 * DAY
    for n in "一二三四五":
        row = card_row(session, qid(session, f"问题{n}"))
        assert row is not None and row.due >= interview_day  # all due after it
    counts = review.queue_counts(session=session, user=user, flt=ALL, now=T0)
    assert counts.due_today == 1  # pulled into today
    assert serve_all(session, user, T0) == ["问题三"]
    assert serve_all(session, user, T0 + DAY) == ["问题一"]
    assert serve_all(session, user, T0 + 2 * DAY) == ["问题二"]
    # Seen since the interview was added: kept on their own schedule (after it).
    assert serve_all(session, user, T0 + 3 * DAY) == []


def test_leeches_are_not_served_or_counted(session: Session, user: User) -> None:
    one, two = qid(session, "问题一"), qid(session, "问题二")
    for q in (one, two):
        rate(session, user, q, Rating.Easy, T0)
    later = T0 + 60 * DAY
    session.execute(update(Card).where(Card.question_id == one).values(leech_at=T0))
    session.commit()
    assert review.queue_counts(session=session, user=user, flt=ALL, now=later).due_today == 1
    shown = review.next_card(session=session, user=user, flt=ALL, now=later)
    assert shown is not None and shown.question_id == two
    # With an interview the leech stays out too (问题一 would be tier 2).
    add(session, user, 90, now=later)
    shown = review.next_card(session=session, user=user, flt=ALL, now=later)
    assert shown is not None and shown.question_id == two


def test_the_plan_from_the_database(session: Session, user: User) -> None:
    assert interviews.current_plan(session=session, user=user, now=T0) is None
    add(session, user, 1)
    view = interviews.current_plan(session=session, user=user, now=T0)
    assert view is not None and view.target.company == "阿里"
    # 问题三 and 问题一 new (tiers 1-2), 问题二 (tier 3, new) not needed; the interview is
    # tomorrow: all today.
    assert (view.tier_counts, view.to_see, view.daily_need, view.days_left) == ((1, 1, 1), 2, 2, 1)
    review.set_study_settings(session=session, user=user, new_per_day=1)
    view = interviews.current_plan(session=session, user=user, now=T0)
    assert view is not None and view.over_limit and view.new_need == 2
    assert (view.today_needed, view.today_left) == (1, 1)
    rate(session, user, qid(session, "问题三"), Rating.Good, T0)
    view = interviews.current_plan(session=session, user=user, now=T0 + MINUTE)
    assert view is not None
    assert (view.daily_need, view.today_done, view.today_left) == (2, 1, 0)


def test_interviews_take_the_banks_spelling_and_errors_name_the_field(
    session: Session, user: User
) -> None:
    added = add(session, user, 3, company=" ＡＬＩ ", stage="二面")
    assert added.company == " ＡＬＩ ".strip()  # not in the bank: kept as typed
    known = add(session, user, 2, company="阿里 ", stage=" 二面")
    assert (known.company, known.stage) == ("阿里", "二面")
    listed = interviews.list_interviews(session=session, user=user)
    assert [i.id for i in listed] == [known.id, added.id]  # soonest first

    def fails(field: str, text: str, **kw: object) -> None:
        args: dict[str, object] = {
            "company": "阿里",
            "role": None,
            "stage": None,
            "date": T0.date(),
        }
        with pytest.raises(Unprocessable) as err:
            interviews.add_interview(session=session, user=user, now=T0, **(args | kw))  # type: ignore[arg-type]
        assert err.value.field == field and text in err.value.message

    fails("date", "is in the past", date=T0.date() - dt.timedelta(days=1))
    fails("company", "must not be empty", company="  ")
    fails("stage", "at most 100", stage="面" * 101)
    interviews.delete_interview(session=session, user=user, interview_id=added.id)
    with pytest.raises(NotFound):
        interviews.delete_interview(session=session, user=user, interview_id=added.id)
    assert [i.id for i in interviews.list_interviews(session=session, user=user)] == [known.id]


@pytest.mark.postgres
def test_the_interview_queue_and_plan_on_postgresql(
    pg_url: str, tmp_path: Path, write_md: WriteMd, content_dir: Path
) -> None:
    write_md("a.md", CHAPTER_A)
    write_md("b.md", CHAPTER_B)
    engine = make_engine(Settings(database_url=pg_url, data_dir=tmp_path))
    try:
        migrate(engine)
        factory = make_sessionmaker(engine)
        load(factory, content_dir)
        with factory() as session:
            user = local_user(session=session)
            add(session, user, 1)
            view = interviews.current_plan(session=session, user=user, now=T0)
            assert view is not None and view.tier_counts == (1, 1, 1)
            served = serve_all(session, user, T0)
            assert served == ["问题三", "问题一", "问题二", "问题四", "问题五"]
            leech = update(Card).where(Card.question_id == qid(session, "问题一"))
            session.execute(leech.values(leech_at=T0))
            session.commit()
            later = serve_all(session, user, T0 + 60 * DAY)
            assert sorted(later) == ["问题三", "问题二", "问题五", "问题四"]
    finally:
        engine.dispose()
