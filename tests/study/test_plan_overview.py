"""The plans toward every upcoming interview: a second interview (even one at a company
the bank never saw) does not hide the first, each interview's share of the daily cards
by date, a question two interviews share planned once, and today's figures adding up."""

from __future__ import annotations

import datetime as dt

from fsrs import Rating
from sqlalchemy.orm import Session

from app.models import User
from app.study import interviews
from app.study.plan import Overview
from tests.study.conftest import MINUTE, T0, qid, rate
from tests.study.test_plan import add

TODAY = T0.date()


def overview(session: Session, user: User, now: dt.datetime = T0) -> Overview:
    result = interviews.plan_overview(session=session, user=user, now=now)
    assert result is not None
    return result


def adds_up(o: Overview) -> None:
    assert o.today_needed == sum(p.today_needed for p in o.plans)
    assert o.today_done == sum(p.today_done for p in o.plans)
    assert o.today_left == max(0, o.today_needed - o.today_done)
    assert o.daily_need == sum(p.daily_need for p in o.plans)


def test_a_company_without_questions_does_not_hide_the_first_plan(
    session: Session, user: User
) -> None:
    assert interviews.plan_overview(session=session, user=user, now=T0) is None
    add(session, user, 10)  # 阿里 二面: 问题三 (tier 1), 问题一 (tier 2), 问题二 (topic)
    add(session, user, 2, company="字节", stage="")  # nearer, nothing in the bank
    o = overview(session, user)
    bytedance, ali = o.plans
    assert (bytedance.target.company, ali.target.company) == ("字节", "阿里")
    assert bytedance.tier_counts == (0, 0, 0) and bytedance.daily_need == 0
    assert (ali.to_see, ali.days_left, ali.daily_need) == (2, 10, 1)
    # One stretch: 阿里's share every day until the day before it; 字节 takes none.
    [stretch] = o.stretches
    assert (stretch.first, stretch.last) == (TODAY, TODAY + dt.timedelta(days=9))
    assert stretch.shares == ((ali.target.interview_id, 1),)
    assert (o.today_needed, o.today_done, o.today_left, o.daily_need) == (1, 0, 1, 1)
    adds_up(o)


def test_each_interviews_share_by_date_and_a_shared_question_planned_once(
    session: Session, user: User
) -> None:
    add(session, user, 2, company="腾讯", stage="")  # 问题四
    add(session, user, 4)  # 阿里 二面: 问题三, 问题一
    o = overview(session, user)
    tencent, ali = o.plans
    assert (tencent.to_see, tencent.daily_need) == (1, 1)
    assert (ali.to_see, ali.daily_need) == (2, 1)
    first, second = o.stretches
    assert (first.first, first.last, first.cards) == (TODAY, TODAY + dt.timedelta(days=1), 2)
    assert first.shares == ((tencent.target.interview_id, 1), (ali.target.interview_id, 1))
    assert (second.first, second.last) == (TODAY + dt.timedelta(days=2), TODAY + dt.timedelta(3))
    assert second.shares == ((ali.target.interview_id, 1),)
    assert o.today_needed == 2
    adds_up(o)

    # A later 阿里 interview shares its questions with the first: planned for the first.
    add(session, user, 8, stage="一面")
    o = overview(session, user)
    later = o.plans[2]
    assert later.tier_counts != (0, 0, 0) and later.to_see == 0 and later.daily_need == 0
    adds_up(o)


def test_todays_figures_add_up_as_the_user_reviews_and_no_new_card_when_none_remain(
    session: Session, user: User
) -> None:
    add(session, user, 1)  # tomorrow: 问题三 and 问题一 both today
    o = overview(session, user)
    assert (o.today_needed, o.today_done, o.today_left, o.new_need) == (2, 0, 2, 2)
    rate(session, user, qid(session, "问题三"), Rating.Easy, T0)
    rate(session, user, qid(session, "问题一"), Rating.Easy, T0 + MINUTE)
    o = overview(session, user, T0 + 2 * MINUTE)
    assert (o.today_needed, o.today_done, o.today_left) == (2, 2, 0)
    # Both seen: no new card remains for it, so none is asked for a day.
    [ali] = o.plans
    assert ali.new_to_see == 0 and o.new_need == 0
    adds_up(o)
