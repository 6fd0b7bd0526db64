"""The interview plan, as pure functions: cards and the bank's "asked" records in, the
queue's order and the daily need out. ``app.study.queue`` loads the inputs and serves
the order; ``app.study.interviews`` shows the plan.

With an upcoming interview (the nearest one, on or after today), the bank's questions
fall into tiers:

1. asked by that company at that stage (one ``Asked`` record holds both; an interview
   without a stage puts every question the company asked here);
2. asked by that company at another stage;
3. sharing a topic tag with a question of tiers 1-2;
4. the rest.

Tiers 1-3 are the interview's questions. The queue then serves:

- due cards by tier, then by (effective) due time;
- **pulled forward**: a card of tiers 1-3 whose due date falls on or after the interview
  day and that has not been reviewed since the interview was added is shown before it.
  The interview's questions, in tier then bank order, are spread evenly over the days
  from the day the interview was added to the day before it (``spread``); such a card's
  effective due is the start of its question's day (if that is earlier than its due).
  Once reviewed after the interview was added it keeps its own schedule: it was seen,
  and its new due date (after the interview) means FSRS expects it to be recalled then.
  The spread depends only on the bank and the interview, so it does not move as the
  user reviews; only the interview's questions are pulled, never the whole bank;
- new cards of tier 1, then tier 2, in bank order, before any other new card (within
  the daily new-card limit).

**Daily need.** The cards to see before the interview are the interview's cards due
before the interview day (naturally or pulled forward), the new questions of tiers 1-2,
and the interview's cards already reviewed today (so the figure holds still while the
user reviews). The need is that count over the days left (today up to the day before
the interview; at least 1), rounded up. The user's only daily limit is
``User.new_per_day``, which caps the new cards the queue introduces; the plan warns when
the new cards it needs a day exceed it, because then some of the interview's questions
would stay unseen.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from fsrs import State

from app.content.tags import fold

TIER_STAGE, TIER_COMPANY, TIER_TOPIC, TIER_REST = 1, 2, 3, 4


@dataclass(frozen=True)
class Target:
    """The interview the queue aims at."""

    interview_id: int
    company: str
    role: str | None
    stage: str | None
    day: dt.date
    # UTC start of the interview day in the user's time zone.
    starts: dt.datetime
    # When the interview was added: a review since then counts as seeing the card for it.
    planned_at: dt.datetime


@dataclass(frozen=True)
class Focus:
    """The interview with its questions' tiers (1-3; absent: 4) and the day start each
    question's card may be pulled forward to."""

    target: Target
    tiers: Mapping[str, int]
    pull_to: Mapping[str, dt.datetime]

    def tier(self, question_id: str) -> int:
        return self.tiers.get(question_id, TIER_REST)


@dataclass(frozen=True)
class CardView:
    """A question as the plan sees it: ``card_id`` is None for a new question (no card)."""

    question_id: str
    card_id: int | None = None
    # fsrs.State; 0 for a new question.
    state: int = 0
    due: dt.datetime | None = None
    last_review: dt.datetime | None = None
    # When the card was first reviewed (``Card.created_at``).
    first_review: dt.datetime | None = None

    @property
    def is_new(self) -> bool:
        return self.card_id is None


def question_tiers(
    *, asked: Iterable[tuple[str, str | None]], related: Iterable[str], stage: str | None
) -> dict[str, int]:
    """Tiers 1-3 by question id. ``asked``: (question id, stage) of each record of the
    interview's company; ``related``: ids of the questions sharing a topic tag with them
    (tier 3 unless the company asked them)."""
    wanted = fold(stage) if stage else None
    tiers: dict[str, int] = {}
    for question_id, asked_stage in asked:
        at_stage = wanted is None or (asked_stage is not None and fold(asked_stage) == wanted)
        tier = TIER_STAGE if at_stage else TIER_COMPANY
        tiers[question_id] = min(tier, tiers.get(question_id, TIER_REST))
    for question_id in related:
        tiers.setdefault(question_id, TIER_TOPIC)
    return tiers


def focus_order(bank_order: Sequence[str], tiers: Mapping[str, int]) -> list[str]:
    """The interview's questions by tier, then bank order (``bank_order`` lists them in
    bank order; questions without a tier are left out)."""
    ranked = [q for q in bank_order if q in tiers]
    return sorted(ranked, key=lambda q: tiers[q])  # stable: bank order within a tier


def spread(order: Sequence[str], *, first: dt.date, interview: dt.date) -> dict[str, dt.date]:
    """Give each question a day from ``first`` to the day before ``interview``, evenly
    and in ``order`` (the question at rank r of n over d days gets day r*d//n). When the
    interview is today (no day before it), every question gets ``first``."""
    days = max(1, (interview - first).days)
    n = len(order)
    return {q: first + dt.timedelta(days=r * days // n) for r, q in enumerate(order)}


def pulled(card: CardView, focus: Focus) -> bool:
    """Whether the plan shows ``card`` earlier than its own schedule would."""
    pull = focus.pull_to.get(card.question_id)
    if card.due is None or pull is None or card.due < focus.target.starts:
        return False
    seen = card.last_review is not None and card.last_review >= focus.target.planned_at
    return not seen and pull < card.due


def effective_due(card: CardView, focus: Focus) -> dt.datetime | None:
    """When the queue treats ``card`` as due (``None`` for a new question)."""
    if card.due is None:
        return None
    return focus.pull_to[card.question_id] if pulled(card, focus) else card.due


def is_due(card: CardView, focus: Focus, *, now: dt.datetime, day_end: dt.datetime) -> bool:
    """Due now, by the queue's rule on the effective due: a Review card due before the
    study day ends, a Learning or Relearning card due by now."""
    due = effective_due(card, focus)
    if due is None:
        return False
    return due < day_end if card.state == State.Review else due <= now


def due_order(
    cards: Iterable[CardView], focus: Focus, *, now: dt.datetime, day_end: dt.datetime
) -> list[CardView]:
    """The cards due now, by tier, then effective due, then card id."""
    due = [c for c in cards if not c.is_new and is_due(c, focus, now=now, day_end=day_end)]
    return sorted(
        due, key=lambda c: (focus.tier(c.question_id), effective_due(c, focus), c.card_id)
    )


def new_order(bank_order: Sequence[str], focus: Focus) -> list[str]:
    """New questions (given in bank order): tier 1, then tier 2, then all others in bank
    order (tier 3 is not ahead of the rest: it would flood the day with the whole topic)."""
    return sorted(bank_order, key=lambda q: min(focus.tier(q), TIER_TOPIC))


@dataclass(frozen=True)
class Plan:
    """The plan toward ``target`` as of today (see the module docstring for the rules)."""

    target: Target
    # Whole days from today to the interview day (0: the interview is today).
    days_to: int
    # Study days to spread the work over: today up to the day before the interview.
    days_left: int
    # The interview's questions by tier (1, 2, 3).
    tier_counts: tuple[int, int, int]
    # Cards to see before the interview (see the module docstring), new ones among them.
    to_see: int
    new_to_see: int
    # Cards a day (and new cards a day) that seeing them all needs.
    daily_need: int
    new_need: int
    # The user's new-card limit a day, and whether the plan needs more than that.
    new_limit: int
    over_limit: bool
    # Today: cards the plan asks for, reviewed already, left in today's queue.
    today_needed: int
    today_done: int
    today_left: int


def summarize(
    cards: Iterable[CardView],
    focus: Focus,
    *,
    today: dt.date,
    day_start: dt.datetime,
    day_end: dt.datetime,
    new_quota: int,
    new_limit: int,
    claimed: frozenset[str] = frozenset(),
) -> Plan:
    """The plan for the interview's questions ``cards`` (tiers 1-3, leeches left out).
    ``new_quota``: new cards the user may still start today; ``claimed``: questions an
    earlier interview's plan already counts (in ``tier_counts``, not in the cards to see,
    so a question shared by two interviews is planned once, for the earlier one)."""
    target = focus.target
    # Seen "before the interview": by its day's start, or by tonight on the day itself.
    deadline = max(target.starts, day_end)
    days_to = (target.day - today).days
    days_left = max(1, days_to)
    tier_counts = [0, 0, 0]
    done = new_done = unseen_new = waiting = available = 0
    for card in cards:
        tier = focus.tier(card.question_id)
        if tier > TIER_TOPIC:
            continue
        tier_counts[tier - 1] += 1
        if card.question_id in claimed:
            continue
        if card.is_new:
            unseen_new += tier <= TIER_COMPANY
        elif card.last_review is not None and card.last_review >= day_start:
            done += 1
            first = card.first_review
            new_done += tier <= TIER_COMPANY and first is not None and first >= day_start
        else:
            due = effective_due(card, focus)
            assert due is not None
            waiting += due < deadline
            available += due < day_end
    to_see = waiting + unseen_new + done
    daily_need = math.ceil(to_see / days_left)
    # Today's first reviews count while new questions remain (the figure holds still as
    # the user reviews); with none left the plan needs no new card.
    new_need = math.ceil((unseen_new + new_done) / days_left) if unseen_new else 0
    available += min(max(0, new_quota), unseen_new)
    needed = min(daily_need, done + available)
    return Plan(
        target=target,
        days_to=days_to,
        days_left=days_left,
        tier_counts=(tier_counts[0], tier_counts[1], tier_counts[2]),
        to_see=to_see,
        new_to_see=unseen_new,
        daily_need=daily_need,
        new_need=new_need,
        new_limit=new_limit,
        over_limit=new_need > new_limit,
        today_needed=needed,
        today_done=done,
        today_left=max(0, needed - done),
    )


@dataclass(frozen=True)
class Stretch:
    """Days from ``first`` to ``last`` (inclusive) with the same interviews ahead: the
    cards a day each of them needs (``shares``: interview id and cards a day)."""

    first: dt.date
    last: dt.date
    shares: tuple[tuple[int, int], ...]

    @property
    def cards(self) -> int:
        return sum(n for _, n in self.shares)


@dataclass(frozen=True)
class Overview:
    """The plans toward every upcoming interview, soonest first, and how they add up:
    each day's cards are the sum of the daily needs of the interviews still ahead."""

    plans: tuple[Plan, ...]
    stretches: tuple[Stretch, ...]
    today_needed: int
    today_done: int
    today_left: int
    daily_need: int
    new_need: int
    new_limit: int
    over_limit: bool


def overview(plans: Sequence[Plan], *, today: dt.date) -> Overview:
    """Add up ``plans`` (soonest first; their cards counted once, see ``summarize``)."""
    stretches: list[Stretch] = []
    first = today
    for day in sorted({p.target.day for p in plans}):
        # Interviews with nothing to see take no share (a company the bank never saw).
        shares = tuple(
            (p.target.interview_id, p.daily_need)
            for p in plans
            if p.target.day > first and p.daily_need
        )
        last = day - dt.timedelta(days=1)
        if day > first and shares:
            if stretches and stretches[-1].shares == shares:
                stretches[-1] = Stretch(first=stretches[-1].first, last=last, shares=shares)
            else:
                stretches.append(Stretch(first=first, last=last, shares=shares))
        first = max(first, day)
    # The interview of today counts today too (its daily need is what is left of it).
    now = [p for p in plans if p.target.day >= today]
    new_need = sum(p.new_need for p in now)
    new_limit = plans[0].new_limit if plans else 0
    return Overview(
        plans=tuple(plans),
        stretches=tuple(stretches),
        today_needed=sum(p.today_needed for p in now),
        today_done=sum(p.today_done for p in now),
        today_left=sum(p.today_left for p in now),
        daily_need=sum(p.daily_need for p in now),
        new_need=new_need,
        new_limit=new_limit,
        over_limit=new_need > new_limit,
    )
