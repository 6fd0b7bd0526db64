"""Review logs of a simulated learner whose memory follows a known FSRS parameter set
(``TRUTH``), scheduled as this app schedules (fsrs's defaults, retention 0.9): the input
of the fit tests. A review recalls the card with the probability the truth predicts.

The tests here check the generator itself: it is reproducible, it cuts histories as the
fit input does, and the log it makes is better predicted by the truth than by the
defaults (else a fit "recovering" anything would prove nothing).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS
from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.jobs.fsrs_fit.metrics import goodness
from app.jobs.fsrs_fit.params import Review, counted_reviews
from app.models import Card, ReviewLog, User
from app.study.fit_input import LogRow, reviews_of

START = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)


def _truth() -> list[float]:
    """A learner who forgets faster than FSRS's average one: lower initial stabilities,
    slower growth, a steeper forgetting curve."""
    w = list(DEFAULT_PARAMETERS)
    w[0], w[1], w[2], w[3] = w[0] * 0.3, w[1] * 0.3, w[2] * 0.4, w[3] * 0.5
    w[8] = 1.2
    w[20] = 0.4
    return w


TRUTH = _truth()


@dataclass(frozen=True)
class Generated:
    card: int  # 0-based card number
    rating: int
    at: dt.datetime
    duration_ms: int
    before: dict[str, Any] | None
    after: dict[str, Any]


def generate_log(
    *, truth: Sequence[float] = TRUTH, cards: int = 110, days: int = 60, seed: int = 1
) -> list[Generated]:
    """``cards`` cards started over the first half of ``days`` days and reviewed when
    due until the end: first ratings 20 % Again, 10 % Hard, 60 % Good, 10 % Easy; a later
    review is recalled with the truth's probability, then rated 10 % Hard, 80 % Good, 10 %
    Easy, else Again."""
    rng = random.Random(seed)
    policy = Scheduler(enable_fuzzing=False)
    memory = Scheduler(parameters=tuple(truth), enable_fuzzing=False)
    end = START + dt.timedelta(days=days)
    log: list[Generated] = []
    for number in range(cards):
        at = START + dt.timedelta(days=number * days // (2 * cards), minutes=rng.randint(0, 600))
        card = FsrsCard(card_id=number + 1, due=at)
        true_card = FsrsCard(card_id=number + 1, due=at)
        before: dict[str, Any] | None = None
        while at < end:
            if before is None:
                rating = rng.choices((1, 2, 3, 4), weights=(0.2, 0.1, 0.6, 0.1))[0]
            elif rng.random() < memory.get_card_retrievability(true_card, at):
                rating = rng.choices((2, 3, 4), weights=(0.1, 0.8, 0.1))[0]
            else:
                rating = 1
            card, _ = policy.review_card(card, Rating(rating), at)
            true_card, _ = memory.review_card(true_card, Rating(rating), at)
            after = dict(card.to_dict())
            ms = rng.randint(3000, 15000)
            log.append(Generated(number, rating, at, ms, before, after))
            before = after
            at = max(card.due, at + dt.timedelta(seconds=30))
    return log


def as_reviews(log: Sequence[Generated]) -> list[Review]:
    """The log as the fit job reads it (through the same cut into histories)."""
    return reviews_of(LogRow(g.card, g.rating, g.at, g.duration_ms, g.before) for g in log)


def insert_log(
    session: Session, user: User, question_ids: Sequence[str], log: Sequence[Generated]
) -> None:
    """The log as the user's cards and review-log rows (card ``n`` is question ``n``)."""
    last: dict[int, Generated] = {}
    for g in log:
        last[g.card] = g
    card_ids: dict[int, int] = {}
    for number, g in sorted(last.items()):
        row = Card(
            user_id=user.id,
            question_id=question_ids[number],
            fsrs=g.after,
            due=dt.datetime.fromisoformat(g.after["due"]),
            state=int(g.after["state"]),
            reps=sum(1 for x in log if x.card == number),
            lapses=0,
            version=1,
            created_at=log[0].at,
        )
        session.add(row)
        session.flush()
        card_ids[number] = row.id
    session.execute(
        insert(ReviewLog),
        [
            {
                "user_id": user.id,
                "card_id": card_ids[g.card],
                "question_id": question_ids[g.card],
                "rating": g.rating,
                "reviewed_at": g.at,
                "duration_ms": g.duration_ms,
                "card_before": g.before,
                "card_after": g.after,
                "lapses_before": 0,
                "source": "review",
            }
            for g in log
        ],
    )
    session.commit()


def test_the_log_is_reproducible_and_long_enough_to_fit() -> None:
    log = generate_log()
    assert log == generate_log()
    assert log != generate_log(seed=2)
    reviews = as_reviews(log)
    assert len({r[0] for r in reviews}) == 110  # one history per card: no resets
    assert counted_reviews(reviews) >= 512  # fsrs's optimizer fits from 512


def test_the_truth_predicts_the_log_better_than_the_defaults() -> None:
    reviews = as_reviews(generate_log())
    truth, defaults = goodness(reviews, TRUTH), goodness(reviews, DEFAULT_PARAMETERS)
    assert truth.reviews == defaults.reviews >= 512
    assert truth.log_loss < defaults.log_loss - 0.01
    assert truth.rmse_bins < defaults.rmse_bins
