"""What the FSRS fit job reads: the user's review log, their cards as they are now and
their study settings, all in its parameters (no torch here; the web process builds and
validates them).

A review is ``(history, rating, reviewed_at, duration_ms)``: ``history`` numbers one
card's run of reviews from a new card on (a card that was reset to new, "relearn it",
starts a new history), ``rating`` is fsrs's 1 Again .. 4 Easy, ``reviewed_at`` whole
seconds since the epoch (UTC) and ``duration_ms`` how long the answer took (None: not
recorded). A card is ``(state, stability, difficulty, days_since_review, days_until_due)``
for each card that has been reviewed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated

from fsrs.scheduler import DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS
from pydantic import Field, field_validator

from app.demos.base import DemoParams, ParamError
from app.demos.text import N_

DAY_S = 86_400
# fsrs's optimizer keeps its defaults below one mini-batch (512) of reviews made a day or
# more after the card's previous review (same-day steps teach it nothing about forgetting).
MIN_REVIEWS = 512
# The desired retentions the workload is simulated for (Anki's simulator spans these).
RETENTIONS = (0.70, 0.75, 0.80, 0.85, 0.90, 0.95)
DEFAULTS: tuple[float, ...] = tuple(DEFAULT_PARAMETERS)
# The optimizer learns from the first 64 reviews of each history (its max_seq_len).
OPTIMIZER_SEQ_LEN = 64

Rating = Annotated[int, Field(ge=1, le=4)]
Seconds = Annotated[int, Field(ge=0)]
Review = tuple[Annotated[int, Field(ge=0)], Rating, Seconds, Annotated[int, Field(ge=0)] | None]
CardNow = tuple[
    Annotated[int, Field(ge=1, le=3)],  # fsrs.State: 1 learning, 2 review, 3 relearning
    Annotated[float, Field(gt=0)],  # stability, days
    Annotated[float, Field(ge=1, le=10)],  # difficulty
    Annotated[float, Field(ge=0)],  # days since its last review
    float,  # days until it is due (negative: overdue)
]


def check_parameters(values: Sequence[float]) -> list[float]:
    """``values`` as a list when they are 21 numbers within fsrs's bounds, else a
    ``ParamError`` (a ``ValueError`` whose msgid and values a page translates)."""
    if len(values) != len(DEFAULTS):
        template = N_("FSRS-6 has %(expected)s parameters, not %(count)s")
        raise ParamError(template, expected=len(DEFAULTS), count=len(values))
    for i, (value, low, high) in enumerate(
        zip(values, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True)
    ):
        if not low <= value <= high:  # NaN fails too
            template = N_("parameter w%(index)s = %(value)s is outside [%(low)s, %(high)s]")
            raise ParamError(template, index=i, value=repr(value), low=low, high=high)
    return [float(value) for value in values]


class FitParams(DemoParams):
    # False: too few reviews to fit; measure the current parameters and simulate only.
    fit: bool = True
    reviews: list[Review] = Field(default_factory=list, max_length=2_000_000)
    # The parameters the user's scheduler uses now (None: fsrs's defaults).
    current: list[float] | None = None
    desired_retention: float = Field(default=0.9, ge=0.7, le=0.99)
    cards: list[CardNow] = Field(default_factory=list, max_length=1_000_000)
    # Questions never reviewed, and how many of them a day may start.
    new_cards: int = Field(default=0, ge=0)
    new_per_day: int = Field(default=20, ge=0, le=9999)
    horizon_days: int = Field(default=365, ge=1, le=3650)
    retentions: list[float] = Field(default_factory=lambda: list(RETENTIONS), max_length=20)

    @field_validator("current")
    @classmethod
    def _bounded(cls, value: list[float] | None) -> list[float] | None:
        return None if value is None else check_parameters(value)

    @field_validator("retentions")
    @classmethod
    def _retentions(cls, value: list[float]) -> list[float]:
        if not value or not all(0.5 <= r <= 0.99 for r in value):
            raise ValueError("retentions must be one or more values from 0.5 to 0.99")
        return sorted(set(value))


def counted_reviews(reviews: Iterable[Review]) -> int:
    """Reviews the fit learns from: among the first ``OPTIMIZER_SEQ_LEN`` of each
    history, those a day or more after the history's previous review (as fsrs's
    optimizer counts them)."""
    last: dict[int, int] = {}
    seen: dict[int, int] = {}
    counted = 0
    for history, _rating, at, _ms in sorted(reviews, key=lambda r: (r[0], r[2])):
        seen[history] = seen.get(history, 0) + 1
        before = last.get(history)
        if before is not None and at - before >= DAY_S and seen[history] <= OPTIMIZER_SEQ_LEN:
            counted += 1
        last[history] = at
    return counted
