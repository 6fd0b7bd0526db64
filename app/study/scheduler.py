"""A thin, pure wrapper over ``fsrs.Scheduler``: card state in, new state out.

Everything here takes the clock (``now``, timezone-aware) and the random generator
(``rng``) as arguments, so a result depends only on its inputs. fsrs fuzzes Review
intervals with ``from random import random`` inside ``fsrs.scheduler``; while one of our
calls runs, that name is pointed at ``rng.random`` (under a lock, restored in
``finally``), so the same rng state gives the same interval.

Cards travel as ``fsrs.Card.to_dict()`` dicts, the form stored in ``Card.fsrs``; ``None``
stands for a card that was never reviewed.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import fsrs
import fsrs.scheduler as fsrs_scheduler
from fsrs import Rating, Scheduler, State

CardDict = dict[str, Any]

# Fail at import, not silently at review time, if an fsrs upgrade stops fuzzing through
# the module-level ``random`` this wrapper swaps out.
if not callable(getattr(fsrs_scheduler, "random", None)):  # pragma: no cover
    raise ImportError("fsrs.scheduler no longer fuzzes with a module-level random()")

# fsrs reads one module global; two threads swapping it at once would mix their rngs.
_FUZZ_LOCK = threading.Lock()


@dataclass(frozen=True)
class Outcome:
    """What one rating does to a card: its new state, when it is due, and the interval
    as the rating button shows it."""

    rating: Rating
    card: CardDict
    state: State
    due: dt.datetime
    interval: dt.timedelta
    label: str

    @property
    def reviewed_at(self) -> dt.datetime:
        """The review time the outcome was scheduled from."""
        return self.due - self.interval


def as_utc(now: dt.datetime) -> dt.datetime:
    """``now`` in UTC; naive datetimes are refused (fsrs and the database need aware ones)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"naive datetime {now.isoformat()}: use timezone-aware UTC")
    return now.astimezone(dt.UTC)


def make_scheduler(
    desired_retention: float, parameters: Sequence[float] | None = None
) -> Scheduler:
    """The FSRS scheduler with the user's fitted ``parameters`` (None: fsrs's defaults;
    ``app.study.fit``) and default steps (1m, 10m; relearn 10m), fuzz on."""
    if parameters is None:
        return Scheduler(desired_retention=desired_retention, enable_fuzzing=True)
    return Scheduler(
        parameters=tuple(parameters), desired_retention=desired_retention, enable_fuzzing=True
    )


def new_card(now: dt.datetime) -> fsrs.Card:
    """A never-reviewed card: ``State.Learning`` step 0, due now.

    ``card_id`` follows fsrs's own convention (epoch milliseconds) but from ``now``, not
    the wall clock, and without ``fsrs.Card()``'s 1 ms sleep.
    """
    now = as_utc(now)
    return fsrs.Card(card_id=int(now.timestamp() * 1000), due=now)


def load(card: Mapping[str, Any] | None, *, now: dt.datetime) -> fsrs.Card:
    """The fsrs card for a stored dict, or a new card for ``None``."""
    if card is None:
        return new_card(now)
    return fsrs.Card.from_dict(dict(card))  # type: ignore[arg-type]


@contextmanager
def _fuzz_with(rng: random.Random) -> Iterator[None]:
    with _FUZZ_LOCK:
        saved = fsrs_scheduler.random  # type: ignore[attr-defined]
        fsrs_scheduler.random = rng.random  # type: ignore[attr-defined]
        try:
            yield
        finally:
            fsrs_scheduler.random = saved  # type: ignore[attr-defined]


def apply(
    card: Mapping[str, Any] | None,
    rating: Rating,
    *,
    desired_retention: float,
    now: dt.datetime,
    rng: random.Random,
    parameters: Sequence[float] | None = None,
) -> Outcome:
    """Review ``card`` (``None``: new) with ``rating`` at ``now``; the input is untouched.

    Fuzz (only for Review intervals of 2.5 days and more) draws from ``rng``, at most once.
    """
    now = as_utc(now)
    scheduler = make_scheduler(desired_retention, parameters)
    before = load(card, now=now)
    good = None
    with _fuzz_with(rng):
        if rating == Rating.Easy and before.state != State.Review:
            start = rng.getstate()
            good, _log = scheduler.review_card(before, Rating.Good, now)
            rng.setstate(start)
        reviewed, _log = scheduler.review_card(before, Rating(rating), now)
    if good is not None and good.state == reviewed.state == State.Review:
        # A learning card that Good also graduates: Easy waits at least a day longer, as
        # in fsrs-rs and Anki (fsrs 6.3 orders the buttons only for Review cards, so a
        # card relearnt after Again showed Good and Easy both "1d").
        reviewed.due = max(reviewed.due, good.due + dt.timedelta(days=1))
    interval = reviewed.due - now
    return Outcome(
        rating=Rating(rating),
        card=dict(reviewed.to_dict()),
        state=reviewed.state,
        due=reviewed.due,
        interval=interval,
        label=interval_label(interval),
    )


def preview(
    card: Mapping[str, Any] | None,
    *,
    desired_retention: float,
    now: dt.datetime,
    rng: random.Random,
    parameters: Sequence[float] | None = None,
) -> dict[Rating, Outcome]:
    """The outcome of each rating, as ``apply`` would give it with ``rng`` as it is now.

    Every rating starts from the same rng state, so ``preview(...)[r]`` equals
    ``apply(..., r, rng=<rng in the same state>)``; ``rng`` is left after the last one.
    """
    start = rng.getstate()
    outcomes: dict[Rating, Outcome] = {}
    for rating in Rating:
        rng.setstate(start)
        outcomes[rating] = apply(
            card,
            rating,
            desired_retention=desired_retention,
            now=now,
            rng=rng,
            parameters=parameters,
        )
    return outcomes


def retrievability(
    card: Mapping[str, Any] | None,
    *,
    desired_retention: float,
    now: dt.datetime,
    parameters: Sequence[float] | None = None,
) -> float | None:
    """Predicted recall probability at ``now``; ``None`` for a card never reviewed."""
    if card is None:
        return None
    scheduler = make_scheduler(desired_retention, parameters)
    return float(scheduler.get_card_retrievability(load(card, now=now), as_utc(now)))


def is_lapse(card: Mapping[str, Any] | None, rating: Rating) -> bool:
    """Again on a graduated (Review-state) card: the card was forgotten."""
    return card is not None and int(card["state"]) == State.Review and rating == Rating.Again


def _round1(value: float) -> float:
    # Half rounds up, as Anki's buttons do (Python's round() would round half to even).
    return math.floor(value * 10 + 0.5) / 10


def _num(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def interval_label(interval: dt.timedelta) -> str:
    """The interval as Anki's rating buttons show it: "<1m", "10m", "1.5h", "3d", "2.1mo",
    "1.2y". Minutes and days are whole (half rounds up); hours, months (30 days) and
    years (365 days) keep one decimal. A value that rounds up to the next unit's size
    moves to that unit, so it reads "1h", never "60m"."""
    seconds = interval.total_seconds()
    if seconds < 60:
        return "<1m"
    minutes = math.floor(seconds / 60 + 0.5)
    if minutes < 60:
        return f"{minutes}m"
    hours = _round1(seconds / 3600)
    if hours < 24:
        return f"{_num(hours)}h"
    days = seconds / 86400
    if math.floor(days + 0.5) < 30:
        return f"{math.floor(days + 0.5)}d"
    if days < 365:
        return f"{_num(_round1(days / 30))}mo"
    return f"{_num(_round1(days / 365))}y"
