"""Stats on a scripted review history, rated with the real ``review.rate`` over two
months in Asia/Shanghai: known true retention, known forecast, heatmap days split at
local midnight, counts by state, a card's history; and coverage cells checked against
plain fsrs on a small bank."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import fsrs
import pytest
from fsrs import Rating, State
from sqlalchemy.orm import Session, sessionmaker

from app.errors import NotFound
from app.models import User
from app.study import card_stats, coverage, review, stats
from app.users.service import local_user
from tests.conftest import WriteMd
from tests.study.conftest import DAY, MINUTE, T0, card_row, load, qid

ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = T0 + 61 * DAY  # 2026-05-02 09:00 in Shanghai


@dataclass
class Script:
    """The scripted history: each question's results in order, for the expectations."""

    ids: dict[str, str]
    results: dict[str, list[review.RateResult]]


def rate(
    session: Session, user: User, q: str, rating: int, now: dt.datetime, source: str = "review"
) -> review.RateResult:
    row = card_row(session, q)
    return review.rate(
        session=session,
        user=user,
        question_id=q,
        rating=rating,
        version=row.version if row is not None else 0,
        duration_ms=1500,
        now=now,
        source=source,
    )


def prior_interval(results: list[review.RateResult], i: int) -> dt.timedelta:
    return results[i - 1].interval


@pytest.fixture
def script(session: Session, user: User) -> Script:
    user.timezone = "Asia/Shanghai"
    session.commit()
    ids = {
        name: qid(session, title)
        for name, title in zip("abcde", "问题一 问题二 问题三 问题四 问题五".split(), strict=True)
    }
    plan: dict[str, list[tuple[int, dt.datetime, str]]] = {
        # Mature after the second Easy (a 69-day interval): Good and Hard pass, Again fails;
        # the relearning step after it is not a recall test.
        "a": [
            (Rating.Easy, T0, "review"),
            (Rating.Easy, T0 + 9 * DAY, "review"),
            (Rating.Good, T0 + 20 * DAY, "review"),
            (Rating.Hard, T0 + 50 * DAY, "review"),
            (Rating.Again, T0 + 60 * DAY, "review"),
            (Rating.Good, T0 + 60 * DAY + 10 * MINUTE, "review"),
        ],
        # A mature Again, then reviews on a short post-lapse interval (young).
        "b": [
            (Rating.Easy, T0, "review"),
            (Rating.Easy, T0 + 9 * DAY, "review"),
            (Rating.Again, T0 + 55 * DAY, "review"),
            (Rating.Good, T0 + 55 * DAY + 10 * MINUTE, "review"),
            (Rating.Good, T0 + 58 * DAY, "review"),
        ],
        # Young all along; overdue at NOW.
        "c": [
            (Rating.Good, T0, "review"),
            (Rating.Good, T0 + 10 * MINUTE, "review"),
            (Rating.Good, T0 + 3 * DAY, "review"),
        ],
        # A wrong quiz answer on a mature card: logged, not a flashcard review.
        "d": [
            (Rating.Easy, T0, "review"),
            (Rating.Easy, T0 + 9 * DAY, "review"),
            (Rating.Again, T0 + 40 * DAY, "quiz"),
        ],
        # 23:30 and 00:30 in Shanghai: two study days, one UTC day (2026-04-14).
        "e": [
            (Rating.Again, dt.datetime(2026, 4, 14, 15, 30, tzinfo=dt.UTC), "review"),
            (Rating.Good, dt.datetime(2026, 4, 14, 16, 30, tzinfo=dt.UTC), "review"),
        ],
    }
    results = {
        name: [rate(session, user, ids[name], r, at, src) for r, at, src in steps]
        for name, steps in plan.items()
    }
    # The script's premises: which reviews are on mature cards.
    a, b = results["a"], results["b"]
    assert prior_interval(a, 1) < stats.MATURE <= prior_interval(a, 2)
    assert prior_interval(a, 3) >= stats.MATURE and prior_interval(a, 4) >= stats.MATURE
    assert a[4].state == State.Relearning and b[2].state == State.Relearning
    assert prior_interval(b, 4) < stats.MATURE
    return Script(ids, results)


def test_true_retention_counts_only_flashcard_reviews_of_mature_cards(
    session: Session, user: User, script: Script
) -> None:
    view = stats.overview(session=session, user=user, now=NOW)
    by_window = {r.days: r for r in view.retention}
    # All time: a's Good (day 20), Hard (50), Again (60); b's Again (55) -> 2 of 4.
    assert (by_window[None].passed, by_window[None].mature_reviews) == (2, 4)
    assert by_window[None].rate == pytest.approx(0.5)
    # The last 30 study days start on 2026-04-03 in Shanghai: day 20 is before them.
    assert (by_window[30].passed, by_window[30].mature_reviews) == (1, 3)
    assert by_window[30].rate == pytest.approx(1 / 3)


def test_heatmap_days_are_study_days_in_the_users_zone(
    session: Session, user: User, script: Script
) -> None:
    view = stats.overview(session=session, user=user, now=NOW)
    assert view.today == dt.date(2026, 5, 2) and view.timezone == "Asia/Shanghai"
    days = {d.day: d for d in view.days}
    assert days[dt.date(2026, 4, 14)].reviews == 1
    assert days[dt.date(2026, 4, 15)].reviews == 1
    assert days[dt.date(2026, 4, 15)].seconds == pytest.approx(1.5)
    # 53 heatmap weeks from a Monday, through today.
    assert view.days[0].day.weekday() == 0 and view.days[-1].day == view.today
    assert len(view.days) == 52 * 7 + view.today.weekday() + 1
    # Every flashcard review is on its local day; the quiz answer is not a review.
    reviews = [r for name in "abce" for r in script.results[name]] + script.results["d"][:2]
    assert sum(d.reviews for d in view.days) == len(reviews) == 18
    first_day = (T0 + 9 * DAY).astimezone(ZONE).date()
    assert days[first_day].reviews == 3  # a, b and d's second Easy


def test_forecast_counts_overdue_today_and_leaves_leeches_out(
    session: Session, user: User, script: Script
) -> None:
    view = stats.overview(session=session, user=user, now=NOW)
    assert [d.day for d in view.forecast][:2] == [view.today, view.today + dt.timedelta(days=1)]
    assert len(view.forecast) == stats.FORECAST_DAYS
    due = {d.day: d.due for d in view.forecast}
    # c (a Review card due long ago), d (relearning since day 40) and e (learning since
    # April 15) are overdue: they count today.
    expected = {view.today: 3}
    for name in "ab":
        day = script.results[name][-1].due.astimezone(ZONE).date()
        assert view.today < day < view.today + dt.timedelta(days=30)
        expected[day] = expected.get(day, 0) + 1
    assert {d: n for d, n in due.items() if n} == expected

    card = card_row(session, script.ids["d"])
    assert card is not None
    card.leech_at = NOW
    session.commit()
    again = stats.overview(session=session, user=user, now=NOW)
    assert again.forecast[0].due == 2


def test_cards_by_state(session: Session, user: User, script: Script) -> None:
    states = stats.state_counts(session=session, user=user)
    assert (states.new, states.learning, states.review, states.relearning) == (0, 1, 3, 1)
    assert states.leeches == 0
    card = card_row(session, script.ids["d"])
    assert card is not None
    card.leech_at = NOW
    session.commit()
    states = stats.state_counts(session=session, user=user)
    assert (states.relearning, states.leeches) == (0, 1)


def test_a_cards_history_gives_each_interval_and_the_recall_predicted_then(
    session: Session, user: User, script: Script
) -> None:
    card = card_stats.card_stats(session=session, user=user, question_id=script.ids["a"], now=NOW)
    results = script.results["a"]
    assert [e.rating for e in card.history] == [4, 4, 3, 2, 1, 3]
    for entry, result in zip(card.history, results, strict=True):
        assert entry.interval_days == pytest.approx(result.interval.total_seconds() / 86400)
        assert entry.duration_ms == 1500
    assert card.history[0].retrievability is None and card.history[0].state_before == 0
    plain = fsrs.Scheduler()
    for i in range(1, len(results)):
        before = fsrs.Card.from_dict(results[i - 1].card)  # type: ignore[arg-type]
        at = card.history[i].reviewed_at
        assert card.history[i].retrievability == pytest.approx(
            plain.get_card_retrievability(before, at)
        )
    assert card.history[5].state_before == State.Relearning
    assert card.lapses == 1 and card.state == State.Review
    final = fsrs.Card.from_dict(results[-1].card)  # type: ignore[arg-type]
    assert card.retrievability == pytest.approx(plain.get_card_retrievability(final, NOW))


def test_history_of_a_new_question_is_empty_and_an_unknown_one_is_not_found(
    session: Session, user: User
) -> None:
    card = card_stats.card_stats(
        session=session, user=user, question_id=qid(session, "问题一"), now=T0
    )
    assert (card.state, card.history, card.retrievability, card.due) == (0, [], None, None)
    with pytest.raises(NotFound):
        card_stats.card_stats(session=session, user=user, question_id="nope", now=T0)


COVERAGE_BANK = """
# 覆盖
### Q. 甲
> **Company**: 阿里 | **Round**: 算法工程师 一面 | **Tags**: [LoRA, PEFT]
答案甲
### Q. 乙
> **Company**: 阿里 | **Round**: 算法工程师 二面 | **Tags**: [LoRA]
答案乙
### Q. 丙
> **Company**: 美团 | **Round**: 算法工程师 一面 | **Tags**: [PEFT]
答案丙
"""


def cell(matrix: coverage.Matrix, row: str, column: str) -> coverage.Cell | None:
    return matrix.cells[matrix.rows.index(row)][matrix.columns.index(column)]


def test_coverage_cells_average_recall_now_with_unreviewed_as_zero(
    session_factory: sessionmaker[Session], write_md: WriteMd, content_dir: Path
) -> None:
    write_md("c.md", COVERAGE_BANK)
    load(session_factory, content_dir)
    with session_factory() as session:
        user = local_user(session=session)
        jia = qid(session, "甲")
        first = review.rate(
            session=session,
            user=user,
            question_id=jia,
            rating=3,
            version=0,
            duration_ms=None,
            now=T0,
        )
        second = review.rate(
            session=session,
            user=user,
            question_id=jia,
            rating=3,
            version=first.version,
            duration_ms=None,
            now=T0 + 10 * MINUTE,
        )
        now = T0 + 5 * DAY
        jia_card = fsrs.Card.from_dict(second.card)  # type: ignore[arg-type]
        plain = fsrs.Scheduler().get_card_retrievability(jia_card, now)
        assert 0 < plain < 1
        cover = coverage.coverage(session=session, user=user, now=now)

    companies, stages = cover.companies, cover.stages
    assert companies.rows == ["阿里", "美团"] and companies.columns == ["LoRA", "PEFT"]
    both = cell(companies, "阿里", "LoRA")
    assert both is not None and (both.questions, both.reviewed) == (2, 1)
    assert both.recall == pytest.approx(plain / 2)
    alone = cell(companies, "阿里", "PEFT")
    assert alone is not None and alone.recall == pytest.approx(plain)
    assert alone.step == coverage.recall_step(plain)
    untouched = cell(companies, "美团", "PEFT")
    assert untouched is not None and (untouched.recall, untouched.reviewed, untouched.step) == (
        0.0,
        0,
        0,
    )
    assert cell(companies, "美团", "LoRA") is None
    assert stages.rows == ["一面", "二面"]
    first_round = cell(stages, "一面", "PEFT")
    assert first_round is not None and first_round.recall == pytest.approx(plain / 2)
    assert (cover.questions, cover.reviewed) == (3, 1)
    assert cover.recall == pytest.approx(plain / 3)
    assert [w.question_id for w in cover.weakest] == [jia]


def test_recall_steps_are_the_legends_bounds() -> None:
    assert [coverage.recall_step(v) for v in (0, 0.19, 0.2, 0.5, 0.79, 0.8, 0.9, 1)] == [
        0,
        0,
        1,
        2,
        3,
        4,
        5,
        5,
    ]
