"""The desired retention's effect on the daily workload: a small simulation over the
user's own cards, as Anki's FSRS simulator does (pure Python over fsrs's scheduler).

Starting from each card's state today, every day's due cards are reviewed: a card is
recalled with the probability the parameters predict (its retrievability then) and rated
Hard, Good or Easy in the user's own proportions, else Again; new cards start at the
user's daily limit while unseen questions last, first rated in the user's proportions.
Learning steps come back the same day. Each retention gets the same random stream, so
the differences between them come from the retention, not the dice.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import count
from statistics import mean

from fsrs import Card, Rating, Scheduler, State

from app.jobs.fsrs_fit.metrics import histories
from app.jobs.fsrs_fit.params import CardNow, Review

# An arbitrary "today" the simulated days count from (fsrs needs aware datetimes).
START = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
# Used when the log says nothing (Anki's simulator defaults are of this order).
FIRST_RATINGS = (0.2, 0.1, 0.6, 0.1)  # Again, Hard, Good, Easy on a new card
RECALL_RATINGS = (0.1, 0.8, 0.1)  # Hard, Good, Easy when recalled


@dataclass(frozen=True)
class Behaviour:
    """How the user rates, from their log: the first rating of a new card, the rating of
    a recalled card, and the mean seconds a review takes (first reviews and later ones,
    by rating; None: no durations recorded)."""

    first: tuple[float, float, float, float] = FIRST_RATINGS
    recall: tuple[float, float, float] = RECALL_RATINGS
    first_seconds: dict[int, float] | None = None
    seconds: dict[int, float] | None = None


@dataclass
class Workload:
    """One retention's outcome over the horizon: mean reviews and minutes a day, and
    the cards expected to be remembered at its end."""

    retention: float
    reviews_per_day: float
    minutes_per_day: float | None
    remembered: float
    daily_reviews: list[int] = field(default_factory=list)


def _shares(counts: Sequence[int], fallback: tuple[float, ...]) -> tuple[float, ...]:
    total = sum(counts)
    return tuple(c / total for c in counts) if total else fallback


def _mean_seconds(durations: dict[int, list[int]]) -> dict[int, float] | None:
    known = [ms for values in durations.values() for ms in values]
    if not known:
        return None
    overall = mean(known) / 1000
    return {r: (mean(durations[r]) / 1000 if durations[r] else overall) for r in range(1, 5)}


def behaviour_of(reviews: Iterable[Review]) -> Behaviour:
    """The user's rating proportions and review durations, from their log."""
    first = [0, 0, 0, 0]
    recall = [0, 0, 0]
    first_ms: dict[int, list[int]] = {r: [] for r in range(1, 5)}
    later_ms: dict[int, list[int]] = {r: [] for r in range(1, 5)}
    for history in histories(reviews):
        for i, (_h, rating, _at, ms) in enumerate(history):
            if i == 0:
                first[rating - 1] += 1
            elif rating > 1:
                recall[rating - 2] += 1
            if ms is not None:
                (first_ms if i == 0 else later_ms)[rating].append(ms)
    first_shares = _shares(first, FIRST_RATINGS)
    recall_shares = _shares(recall, RECALL_RATINGS)
    first_seconds, seconds = _mean_seconds(first_ms), _mean_seconds(later_ms)
    return Behaviour(
        first=(first_shares[0], first_shares[1], first_shares[2], first_shares[3]),
        recall=(recall_shares[0], recall_shares[1], recall_shares[2]),
        # One kind of review timed and not the other: the timed one stands in.
        first_seconds=first_seconds or seconds,
        seconds=seconds or first_seconds,
    )


def _start_card(number: int, now: CardNow) -> Card:
    state, stability, difficulty, since, until = now
    return Card(
        card_id=number + 1,
        state=State(state),
        step=None if state == State.Review else 0,
        stability=stability,
        difficulty=difficulty,
        due=START + dt.timedelta(days=max(until, 0.0)),
        last_review=START - dt.timedelta(days=since),
    )


def simulate(
    *,
    cards: Sequence[CardNow],
    parameters: Sequence[float],
    retention: float,
    behaviour: Behaviour,
    new_cards: int,
    new_per_day: int,
    days: int,
    seed: int,
) -> Workload:
    """The workload of ``days`` days at ``retention`` (see the module docstring)."""
    rng = random.Random(seed)
    scheduler = Scheduler(
        parameters=tuple(parameters), desired_retention=retention, enable_fuzzing=False
    )
    order = count()
    queue = [(c.due, next(order), c) for c in (_start_card(i, n) for i, n in enumerate(cards))]
    heapq.heapify(queue)
    daily = [0] * days
    seconds = 0.0
    unseen = new_cards
    for day in range(days):
        start, end = START + day * DAY, START + (day + 1) * DAY
        for _ in range(min(new_per_day, unseen)):
            unseen -= 1
            heapq.heappush(queue, (start, next(order), Card(card_id=-next(order), due=start)))
        while queue and queue[0][0] < end:
            due, _n, card = heapq.heappop(queue)
            when = max(due, start)
            if card.stability is None:
                rating = rng.choices((1, 2, 3, 4), weights=behaviour.first)[0]
                costs = behaviour.first_seconds
            else:
                recalled = rng.random() < scheduler.get_card_retrievability(card, when)
                rating = rng.choices((2, 3, 4), weights=behaviour.recall)[0] if recalled else 1
                costs = behaviour.seconds
            daily[day] += 1
            seconds += costs[rating] if costs else 0.0
            card, _log = scheduler.review_card(card, Rating(rating), when)
            heapq.heappush(queue, (card.due, next(order), card))
    end = START + days * DAY
    done = [card for _due, _n, card in queue]
    remembered = sum(scheduler.get_card_retrievability(c, end) for c in done)
    timed = behaviour.seconds is not None or behaviour.first_seconds is not None
    return Workload(
        retention=retention,
        reviews_per_day=sum(daily) / days,
        minutes_per_day=seconds / 60 / days if timed else None,
        remembered=float(remembered),
        daily_reviews=daily,
    )
