"""The FSRS fit end to end below the web: ``start_fit`` queues the hidden job with the
user's log, a worker's ``execute`` runs fsrs's optimizer on it, ``fit_view`` reads the
result back and ``apply_fit`` makes the scheduler use it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from fsrs.scheduler import DEFAULT_PARAMETERS
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.content.filters import QuestionFilter
from app.errors import Conflict, NotFound
from app.jobs.fsrs_fit.metrics import goodness
from app.models import DemoRun, Question, User
from app.runs import service as runs
from app.study import fit, review
from app.users.service import local_user
from app.worker.execute import execute
from tests.conftest import WriteMd
from tests.study.conftest import load
from tests.study.test_fit_logs import TRUTH, as_reviews, generate_log, insert_log

CAPS = {"queued_cap": 3, "per_minute": 10}


def bank(cards: int) -> str:
    questions = "\n".join(
        f"### Q. Question {n:03d}\n> **Company**: Acme | **Tags**: [FSRS]\nAnswer {n}.\n"
        for n in range(cards)
    )
    return f"# Chapter\n{questions}"


def learner(
    session_factory: sessionmaker[Session],
    write_md: WriteMd,
    content_dir: object,
    *,
    cards: int = 110,
    days: int = 60,
) -> tuple[Session, User, list[dt.datetime]]:
    """A session, the local user with a generated log in their cards, and its times."""
    write_md("bank.md", bank(cards))
    load(session_factory, content_dir)  # type: ignore[arg-type]
    session = session_factory()
    user = local_user(session=session)
    ids = list(session.scalars(select(Question.id).order_by(Question.title)))
    generated = generate_log(cards=cards, days=days)
    insert_log(session, user, ids, generated)
    return session, user, [g.at for g in generated]


def run_fit(session: Session, user: User, engine: Engine, now: dt.datetime) -> fit.FitView:
    started, queued = fit.start_fit(session=session, user=user, now=now, **CAPS)
    assert queued and started.run_id is not None
    view = fit.fit_view(session=session, user=user)
    assert view.running and view.status == "queued" and view.result is None
    assert execute(started.run_id, engine=engine) == "succeeded"
    session.expire_all()
    return fit.fit_view(session=session, user=user)


@pytest.mark.slow
def test_the_fit_recovers_parameters_that_predict_the_log_better_and_apply_changes_scheduling(
    session_factory: sessionmaker[Session], write_md: WriteMd, content_dir: object, engine: Engine
) -> None:
    session, user, times = learner(session_factory, write_md, content_dir)
    now = max(times) + dt.timedelta(days=10)  # cards are due
    view = run_fit(session, user, engine, now)
    result = view.result
    assert result is not None and result.fitted is not None
    assert result.reviews == len(times) and result.scored >= fit.MIN_REVIEWS
    # Lower loss than fsrs's defaults, from which the optimizer started ...
    assert result.fitted.log_loss < result.defaults.log_loss - 0.005
    assert result.fitted.rmse < result.defaults.rmse
    assert result.improved and result.current == result.defaults
    # ... and towards the truth: this learner's first-day memory is weaker.
    reviews = as_reviews(generate_log())
    assert (
        goodness(reviews, result.parameters).log_loss
        < goodness(reviews, DEFAULT_PARAMETERS).log_loss
    )
    assert result.parameters[2] < DEFAULT_PARAMETERS[2] and TRUTH[2] < DEFAULT_PARAMETERS[2]

    shown_before = review.next_card(session=session, user=user, flt=QuestionFilter(), now=now)
    assert shown_before is not None and shown_before.card is not None  # a review card
    assert view.fit is not None
    fit.apply_fit(session=session, user=user, fit_id=view.fit.id, now=now)
    assert user.fsrs_parameters == result.parameters
    shown_after = review.next_card(session=session, user=user, flt=QuestionFilter(), now=now)
    assert shown_after is not None and shown_after.question_id == shown_before.question_id
    # This learner forgets faster: every recalled rating leaves a less stable memory,
    # and comes back no later (intervals are whole days: at least one sooner).
    after, before = shown_after.previews, shown_before.previews
    for rating in (2, 3, 4):
        assert after[rating].card["stability"] < before[rating].card["stability"]
        assert after[rating].interval <= before[rating].interval
    assert any(after[r].interval < before[r].interval for r in (2, 3, 4))
    assert fit.fit_view(session=session, user=user).applied

    fit.reset_parameters(session=session, user=user)
    shown_reset = review.next_card(session=session, user=user, flt=QuestionFilter(), now=now)
    assert shown_reset is not None
    assert shown_reset.previews[3].interval == shown_before.previews[3].interval


def test_too_few_reviews_measure_and_simulate_but_offer_nothing_to_apply(
    session_factory: sessionmaker[Session], write_md: WriteMd, content_dir: object, engine: Engine
) -> None:
    session, user, times = learner(session_factory, write_md, content_dir, cards=12, days=20)
    user.desired_retention = 0.93  # not one of the simulated retentions: added to them
    session.commit()
    view = run_fit(session, user, engine, max(times) + dt.timedelta(hours=1))
    result = view.result
    assert result is not None and result.fitted is None and not result.improved
    assert view.fit is not None and not view.fit.fit
    assert result.parameters == pytest.approx(DEFAULT_PARAMETERS)
    retentions = [w.retention for w in result.workload]
    assert retentions == [0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95]
    assert [w.retention for w in result.workload if w.current] == [0.93]
    assert sum(w.best for w in result.workload) == 1
    # Asking for more retention costs reviews: the lowest and highest retention differ.
    per_day = [w.reviews_per_day for w in result.workload]
    assert per_day[-1] > per_day[0]
    assert all(w.minutes_per_day is not None and w.minutes_per_day > 0 for w in result.workload)
    with pytest.raises(Conflict):
        fit.apply_fit(session=session, user=user, fit_id=view.fit.id, now=dt.datetime.now(dt.UTC))
    assert user.fsrs_parameters is None


def test_a_fit_in_flight_is_returned_and_the_same_log_reuses_its_result(
    session_factory: sessionmaker[Session], write_md: WriteMd, content_dir: object, engine: Engine
) -> None:
    session, user, times = learner(session_factory, write_md, content_dir, cards=6, days=10)
    now = max(times) + dt.timedelta(hours=1)
    first, queued = fit.start_fit(session=session, user=user, now=now, **CAPS)
    again, queued_again = fit.start_fit(session=session, user=user, now=now, **CAPS)
    assert queued and not queued_again and again.id == first.id
    assert first.run_id is not None
    assert execute(first.run_id, engine=engine) == "succeeded"
    session.expire_all()
    cached, queued_cached = fit.start_fit(session=session, user=user, now=now, **CAPS)
    assert not queued_cached and cached.id != first.id and cached.run_id == first.run_id
    assert fit.fit_view(session=session, user=user).result is not None
    # The run holds the user's log: no permalink, no catalogue entry.
    with pytest.raises(NotFound):
        runs.get_run(session=session, run_id=first.run_id)
    assert session.get(DemoRun, first.run_id) is not None


def test_only_the_owner_can_apply_a_fit(
    session_factory: sessionmaker[Session], write_md: WriteMd, content_dir: object, engine: Engine
) -> None:
    session, user, times = learner(session_factory, write_md, content_dir, cards=4, days=6)
    started, _ = fit.start_fit(session=session, user=user, now=max(times), **CAPS)
    other = User(username="someone")
    session.add(other)
    session.commit()
    with pytest.raises(NotFound):
        fit.apply_fit(session=session, user=other, fit_id=started.id, now=max(times))
    with pytest.raises(Conflict):  # still queued: nothing to apply yet
        fit.apply_fit(session=session, user=user, fit_id=started.id, now=max(times))


def test_a_reset_card_starts_a_new_history() -> None:
    log = generate_log(cards=2, days=20)
    second = [i for i, g in enumerate(log) if g.card == 0][3]
    reset = dataclasses.replace(
        log[second], before={**(log[second].before or {}), "stability": None}
    )
    reviews = as_reviews([*log[:second], reset, *log[second + 1 :]])
    assert len({h for h, *_ in reviews}) == 3
    assert len(reviews) == len(log)
