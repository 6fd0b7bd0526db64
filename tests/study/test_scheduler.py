"""The fsrs wrapper: exact results from fixed datetimes and seeded rngs, equal to a plain
``fsrs.Scheduler`` given the same random draws, and Anki-style interval labels."""

from __future__ import annotations

import datetime as dt
import random
import threading
from typing import Any

import fsrs
import fsrs.scheduler as fsrs_scheduler
import pytest
from fsrs import Rating, State

from app.study import scheduler
from app.study.scheduler import Outcome

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def long_card() -> dict[str, Any]:
    """A card rated Easy three times on its due dates: intervals of weeks to months, so
    fuzz (Review intervals of 2.5 days and more) applies to every rating but Again."""
    card, now = None, T0
    for i in range(3):
        out = scheduler.apply(
            card, Rating.Easy, desired_retention=0.9, now=now, rng=random.Random(i)
        )
        card, now = out.card, out.due
    assert card is not None
    return card


def test_a_new_card_is_learning_step_zero_and_its_first_outcomes_read_like_anki() -> None:
    outcomes = scheduler.preview(None, desired_retention=0.9, now=T0, rng=random.Random(1))
    labels = {r: o.label for r, o in outcomes.items()}
    assert labels == {
        Rating.Again: "1m",
        Rating.Hard: "6m",  # (1m + 10m) / 2, half rounded up like Anki
        Rating.Good: "10m",
        Rating.Easy: labels[Rating.Easy],
    }
    # Easy graduates at once: 8 days unfuzzed, give or take the fuzz.
    assert labels[Rating.Easy] in {"7d", "8d", "9d"}
    assert outcomes[Rating.Good].card["step"] == 1
    assert outcomes[Rating.Good].state == State.Learning
    assert outcomes[Rating.Easy].state == State.Review
    assert outcomes[Rating.Good].due == T0 + dt.timedelta(minutes=10)
    assert scheduler.new_card(T0).to_dict()["state"] == State.Learning
    assert scheduler.new_card(T0).step == 0


def test_apply_leaves_its_input_alone() -> None:
    card = long_card()
    copy = dict(card)
    scheduler.apply(
        card, Rating.Again, desired_retention=0.9, now=T0 + 90 * DAY, rng=random.Random()
    )
    assert card == copy


def test_a_sequence_equals_plain_fsrs_with_the_same_random_draws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ratings = [Rating.Good, Rating.Good, Rating.Again, Rating.Hard, Rating.Easy, Rating.Good]
    times = [
        T0,
        T0 + dt.timedelta(minutes=10),
        T0 + 3 * DAY,
        T0 + 3 * DAY + dt.timedelta(minutes=10),
        T0 + 8 * DAY,
        T0 + 30 * DAY,
    ]

    ours: dict[str, Any] | None = None
    for i, (rating, now) in enumerate(zip(ratings, times, strict=True)):
        ours = scheduler.apply(
            ours, rating, desired_retention=0.85, now=now, rng=random.Random(i)
        ).card

    reference = fsrs.Scheduler(desired_retention=0.85)
    card = fsrs.Card(card_id=int(T0.timestamp() * 1000), due=T0)
    for i, (rating, now) in enumerate(zip(ratings, times, strict=True)):
        monkeypatch.setattr(fsrs_scheduler, "random", random.Random(i).random)
        card, _ = reference.review_card(card, rating, now)
    assert ours == card.to_dict()
    assert ours is not None and ours["state"] == State.Review


def test_fuzz_comes_from_the_given_rng_only() -> None:
    card, now = long_card(), T0 + 200 * DAY

    def interval(seed: int) -> dt.timedelta:
        return scheduler.apply(
            card, Rating.Good, desired_retention=0.9, now=now, rng=random.Random(seed)
        ).interval

    assert interval(7) == interval(7)
    assert len({interval(seed) for seed in range(30)}) > 1  # fuzz does apply
    random.seed(123)
    expected = random.random()
    random.seed(123)
    interval(7)
    assert random.random() == expected  # the global generator was not drawn from
    assert fsrs_scheduler.random is random.random  # type: ignore[attr-defined]


def test_the_global_is_restored_when_fsrs_raises() -> None:
    broken = {**long_card(), "state": 9}
    with pytest.raises(ValueError):
        scheduler.apply(broken, Rating.Good, desired_retention=0.9, now=T0, rng=random.Random())
    assert fsrs_scheduler.random is random.random  # type: ignore[attr-defined]


@pytest.mark.parametrize("rating", list(Rating))
def test_preview_equals_apply_for_each_rating_with_fuzz(rating: Rating) -> None:
    card, now = long_card(), T0 + 250 * DAY
    previews = scheduler.preview(card, desired_retention=0.9, now=now, rng=random.Random(42))
    applied = scheduler.apply(card, rating, desired_retention=0.9, now=now, rng=random.Random(42))
    assert previews[rating] == applied
    if rating != Rating.Again:
        assert applied.interval >= dt.timedelta(days=3)  # long enough to be fuzzed


def test_threads_each_get_their_own_fuzz() -> None:
    card, now = long_card(), T0 + 200 * DAY

    def run(seed: int) -> Outcome:
        return scheduler.apply(
            card, Rating.Easy, desired_retention=0.9, now=now, rng=random.Random(seed)
        )

    expected = {seed: run(seed) for seed in range(40)}
    got: dict[int, Outcome] = {}

    def worker(seeds: range) -> None:
        for seed in seeds:
            got[seed] = run(seed)

    threads = [threading.Thread(target=worker, args=(range(i, 40, 4),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == expected


def test_retrievability_and_lapses() -> None:
    card = long_card()
    last = dt.datetime.fromisoformat(card["last_review"])
    assert scheduler.retrievability(None, desired_retention=0.9, now=T0) is None
    r_now = scheduler.retrievability(card, desired_retention=0.9, now=last)
    r_later = scheduler.retrievability(card, desired_retention=0.9, now=last + 100 * DAY)
    assert r_now == 1.0 and r_later is not None and 0 < r_later < 1
    plain = fsrs.Scheduler().get_card_retrievability(fsrs.Card.from_dict(card), last + 100 * DAY)  # type: ignore[arg-type]
    assert r_later == plain
    assert scheduler.is_lapse(card, Rating.Again)
    assert not scheduler.is_lapse(card, Rating.Hard)
    assert not scheduler.is_lapse(None, Rating.Again)  # a new card can't be forgotten


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        scheduler.apply(
            None,
            Rating.Good,
            desired_retention=0.9,
            now=dt.datetime(2026, 1, 1),
            rng=random.Random(),
        )


def test_other_zones_are_converted_to_utc() -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    out = scheduler.apply(
        None, Rating.Good, desired_retention=0.9, now=T0.astimezone(shanghai), rng=random.Random()
    )
    assert out.due == T0 + dt.timedelta(minutes=10) and out.due.tzinfo == dt.UTC


@pytest.mark.parametrize(
    ("interval", "label"),
    [
        (dt.timedelta(seconds=0), "<1m"),
        (dt.timedelta(seconds=59), "<1m"),
        (dt.timedelta(minutes=1), "1m"),
        (dt.timedelta(minutes=5, seconds=30), "6m"),
        (dt.timedelta(minutes=10), "10m"),
        (dt.timedelta(minutes=59, seconds=50), "1h"),
        (dt.timedelta(hours=1, minutes=30), "1.5h"),
        (dt.timedelta(hours=23, minutes=59), "1d"),
        (dt.timedelta(days=1), "1d"),
        (dt.timedelta(days=3), "3d"),
        (dt.timedelta(days=29), "29d"),
        (dt.timedelta(days=63), "2.1mo"),
        (dt.timedelta(days=365), "1y"),
        (dt.timedelta(days=440), "1.2y"),
    ],
)
def test_interval_labels(interval: dt.timedelta, label: str) -> None:
    assert scheduler.interval_label(interval) == label


def test_easy_waits_at_least_a_day_longer_than_good_when_both_graduate() -> None:
    """fsrs 6.3 orders the buttons for Review cards only: a learning card that Good also
    graduates showed Good and Easy both "1d". As in fsrs-rs and Anki, Easy's interval is
    then at least Good's plus a day; its memory state stays fsrs's own."""
    again = scheduler.apply(None, Rating.Again, desired_retention=0.9, now=T0, rng=random.Random())
    good = scheduler.apply(
        again.card, Rating.Good, desired_retention=0.9, now=again.due, rng=random.Random()
    )
    assert good.state == State.Learning  # one step left
    now = good.due
    outcomes = scheduler.preview(good.card, desired_retention=0.9, now=now, rng=random.Random(3))
    assert outcomes[Rating.Good].state == outcomes[Rating.Easy].state == State.Review
    assert outcomes[Rating.Easy].interval >= outcomes[Rating.Good].interval + DAY
    assert outcomes[Rating.Easy].label != outcomes[Rating.Good].label
    plain, _ = fsrs.Scheduler(desired_retention=0.9).review_card(
        fsrs.Card.from_dict(good.card),  # type: ignore[arg-type]
        Rating.Easy,
        now,
    )
    assert plain.due - now < outcomes[Rating.Easy].interval  # fsrs alone: the same "1d"
    easy = outcomes[Rating.Easy].card
    assert {k: v for k, v in easy.items() if k != "due"} == {
        k: v for k, v in plain.to_dict().items() if k != "due"
    }
    applied = scheduler.apply(
        good.card, Rating.Easy, desired_retention=0.9, now=now, rng=random.Random(3)
    )
    assert applied == outcomes[Rating.Easy]
