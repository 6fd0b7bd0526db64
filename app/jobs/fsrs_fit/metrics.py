"""How well a parameter set predicts a review log: log loss and RMSE (bins), the two
numbers Anki's "Evaluate" shows. Pure Python over fsrs's scheduler (no torch).

Each history is replayed under the parameters; every review a day or more after the
previous one is a prediction (the card's retrievability then) and an outcome (recalled
unless rated Again), as fsrs's optimizer scores them. Same-day steps move the card's
state but are not scored.

RMSE (bins) is the FSRS benchmark's calibration error: the predictions are grouped by
the days since the previous review, the review's number in its history and the lapses
before it, each on a geometric scale; within a group the mean prediction is compared
with the share recalled, and the squared gaps are averaged weighted by group size.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby

from fsrs import Card, Rating, Scheduler

from app.jobs.fsrs_fit.params import DAY_S, Review

EPS = 1e-7


@dataclass(frozen=True)
class Prediction:
    """One scored review: predicted recall ``p``, outcome ``y`` (1 recalled), and the
    features RMSE (bins) groups by."""

    p: float
    y: int
    elapsed_days: int
    number: int  # this review's place in its history, counting one review per day
    lapses: int  # Again ratings before it, same-day steps not counted


@dataclass(frozen=True)
class Goodness:
    """Log loss and RMSE (bins) of a parameter set on a log, over ``reviews`` predictions."""

    log_loss: float
    rmse_bins: float
    reviews: int


def histories(reviews: Iterable[Review]) -> Iterator[list[Review]]:
    """The reviews grouped by history, each in time order."""
    ordered = sorted(reviews, key=lambda r: (r[0], r[2]))
    for _history, group in groupby(ordered, key=lambda r: r[0]):
        yield list(group)


def at(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def predictions(reviews: Iterable[Review], parameters: Sequence[float]) -> Iterator[Prediction]:
    """Every scored review of ``reviews`` under ``parameters``."""
    scheduler = Scheduler(parameters=tuple(parameters), enable_fuzzing=False)
    for history in histories(reviews):
        card = Card(card_id=history[0][0] + 1, due=at(history[0][2]))
        previous: int | None = None
        number = lapses = 0
        for _h, rating, seconds, _ms in history:
            when = at(seconds)
            new_day = previous is None or seconds - previous >= DAY_S
            if previous is not None and new_day:
                p = float(scheduler.get_card_retrievability(card, when))
                yield Prediction(
                    p=p,
                    y=int(rating != Rating.Again),
                    elapsed_days=(seconds - previous) // DAY_S,
                    number=number + 1,
                    lapses=lapses,
                )
                lapses += rating == Rating.Again
            number += new_day
            card, _log = scheduler.review_card(card, Rating(rating), when)
            previous = seconds


def log_loss(scored: Sequence[Prediction]) -> float:
    total = 0.0
    for s in scored:
        p = min(max(s.p, EPS), 1 - EPS)
        total -= math.log(p) if s.y else math.log(1 - p)
    return total / len(scored)


def _bin(value: float, base: float, scale: float, digits: int) -> float:
    return round(scale * base ** math.floor(math.log(value) / math.log(base)), digits)


def rmse_bins(scored: Sequence[Prediction]) -> float:
    groups: dict[tuple[float, float, float], list[Prediction]] = defaultdict(list)
    for s in scored:
        key = (
            _bin(max(s.elapsed_days, 1), 3.62, 2.48, 2),
            _bin(s.number, 1.89, 1.99, 0),
            _bin(s.lapses, 1.73, 1.65, 0) if s.lapses else 0.0,
        )
        groups[key].append(s)
    squared = 0.0
    for group in groups.values():
        recalled = sum(s.y for s in group) / len(group)
        predicted = sum(s.p for s in group) / len(group)
        squared += len(group) * (recalled - predicted) ** 2
    return math.sqrt(squared / len(scored))


def goodness(reviews: Iterable[Review], parameters: Sequence[float]) -> Goodness:
    """Log loss and RMSE (bins) of ``parameters`` on ``reviews`` (NaN when nothing is
    scored: no review came a day after another)."""
    scored = list(predictions(reviews, parameters))
    if not scored:
        return Goodness(log_loss=math.nan, rmse_bins=math.nan, reviews=0)
    return Goodness(log_loss=log_loss(scored), rmse_bins=rmse_bins(scored), reviews=len(scored))
