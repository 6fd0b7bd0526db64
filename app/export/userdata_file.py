"""The user-data file's format (version 3) and how a file is read and checked.

Version 2 added ``notes`` (the user's notes and own answers and takeaways, markdown
only), version 3 ``mock_interviews`` (``app.export.userdata_mock``); an older file is
still read, as having none. ``user.fsrs_parameters`` (the
parameters fitted to the user's reviews, or null) is optional: a file without it leaves
the user's parameters as they are.

``parse_user_data`` checks ``format`` and ``version`` before anything else, so a file from
a newer Interview Lab gets that message rather than a list of unknown fields; then every
record (pydantic models, unknown keys refused), then what a schema cannot say (a valid time
zone and FSRS state, one card per question, a card for every review). Every refusal is an
``Unprocessable`` naming the field (``cards.3.due``), shown on a page in the reader's
language (a schema error's reason as ``app.validation`` translates it).

**Nothing from a file reaches a page unsanitised.** A quiz item's payload is checked
against its type's shape (``PAYLOADS``), and every HTML string in it goes through the
renderer's allow-list (``app.content.render.sanitize_html``), so an item whose ``html``
holds ``<img onerror=...>`` is stored inert. The JSON itself is bounded: nesting deeper
than ``MAX_DEPTH``, numbers longer than ``MAX_NUMBER_DIGITS`` digits, and ``NaN`` or
``Infinity`` are refused with a 422 naming the problem, not a crash
(``app.export.userdata_json``).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import fsrs
from pydantic import AwareDatetime, Field, ValidationError

from app.content.render import sanitize_html
from app.demos.base import ParamError
from app.errors import Unprocessable
from app.export.records import INT32, Json
from app.export.records import Record as _Record
from app.export.userdata_json import check_tree
from app.export.userdata_mock import MockInterviewData, check_mocks
from app.i18n import mark as N_
from app.jobs.fsrs_fit.params import check_parameters
from app.study.notes import TEXTS, check_text
from app.study.queue import iana_zones
from app.study.settings import NEW_PER_DAY_RANGE, RETENTION_RANGE
from app.validation import InvalidRecord, RefusedValue

FORMAT = "interview-lab-userdata"
VERSION = 3
# The versions this code reads.
READS = (1, 2, 3)
# The lists a version added: an older file has none.
ADDED_IN = {"notes": 2, "mock_interviews": 3}
HTML_MAX = 200_000


class UserSettingsData(_Record):
    username: str | None = Field(default=None, description="Informational: not imported")
    new_per_day: int = Field(ge=NEW_PER_DAY_RANGE[0], le=NEW_PER_DAY_RANGE[1])
    desired_retention: float = Field(ge=RETENTION_RANGE[0], le=RETENTION_RANGE[1])
    timezone: str = Field(max_length=64)
    quiz_feeds_reviews: bool
    leech_threshold: int = Field(ge=1, le=1000)
    language: str | None = Field(default=None, max_length=8)
    # Absent in files written before it was exported: the user's parameters stay as they are.
    fsrs_parameters: list[float] | None = Field(
        default=None, max_length=64, description="The FSRS parameters in use (null: fsrs's)"
    )


class CardData(_Record):
    question_id: str = Field(max_length=200)
    fsrs: Json
    due: AwareDatetime
    state: int = Field(ge=1, le=3)
    reps: int = Field(ge=0, le=INT32)
    lapses: int = Field(ge=0, le=INT32)
    version: int = Field(ge=0, le=INT32)
    created_at: AwareDatetime
    leech_at: AwareDatetime | None = None
    answer_changed_at: AwareDatetime | None = None


class ReviewLogData(_Record):
    question_id: str = Field(max_length=200)
    rating: int = Field(ge=1, le=4)
    reviewed_at: AwareDatetime
    duration_ms: int | None = Field(default=None, ge=0, le=INT32)
    card_before: Json | None
    card_after: Json
    lapses_before: int = Field(ge=0, le=INT32)
    retrievability: float | None = Field(default=None, ge=0, le=1)
    source: str = Field(max_length=16)


class TakeawayChoice(_Record):
    question_id: str = Field(max_length=200)
    html: str = Field(max_length=HTML_MAX)


class TakeawayPayload(_Record):
    choices: list[TakeawayChoice] = Field(min_length=1, max_length=10)
    answer: int = Field(ge=0, le=9)


class TrueFalsePayload(_Record):
    claim_id: str = Field(max_length=200)
    statement_html: str = Field(max_length=HTML_MAX)
    answer: int = Field(ge=0, le=1)
    explanation: str = Field(max_length=HTML_MAX)


class ClozePayload(_Record):
    html: str = Field(max_length=HTML_MAX)
    answer: str = Field(max_length=1000)
    hint_length: int = Field(ge=0, le=1000)


class RecallPayload(_Record):
    key_terms: list[str] = Field(max_length=1000)


PAYLOADS: dict[str, type[_Record]] = {
    "recall": RecallPayload,
    "takeaway": TakeawayPayload,
    "truefalse": TrueFalsePayload,
    "cloze": ClozePayload,
}


class QuizItemData(_Record):
    position: int = Field(ge=0, le=10_000)
    question_id: str = Field(max_length=200)
    type: Literal["recall", "takeaway", "truefalse", "cloze"]
    payload: Json
    response: Json | None = None
    verdict: str | None = Field(default=None, max_length=8)
    correct: bool | None = None
    answered_at: AwareDatetime | None = None
    duration_ms: int | None = Field(default=None, ge=0, le=INT32)


class QuizData(_Record):
    created_at: AwareDatetime
    finished_at: AwareDatetime | None = None
    seed: int = Field(ge=-INT32 - 1, le=INT32)
    spec: Json
    feeds_reviews: bool
    items: list[QuizItemData]


class InterviewData(_Record):
    company: str = Field(min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=200)
    stage: str | None = Field(default=None, max_length=100)
    date: dt.date
    created_at: AwareDatetime


class NoteData(_Record):
    """A user's texts for one question, as markdown (HTML is rendered again on import,
    never read from the file). Sizes as ``app.study.notes.LIMITS``; checked there."""

    question_id: str = Field(max_length=200)
    note: str | None = None
    answer: str | None = None
    takeaway: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class UserData(_Record):
    """The whole file, version 3 (2: no ``mock_interviews``; 1: no ``notes`` either)."""

    format: Literal["interview-lab-userdata"]
    version: Literal[1, 2, 3]
    exported_at: AwareDatetime
    user: UserSettingsData
    cards: list[CardData]
    review_logs: list[ReviewLogData]
    quizzes: list[QuizData]
    interviews: list[InterviewData]
    notes: list[NoteData] = Field(default_factory=list)
    mock_interviews: list[MockInterviewData] = Field(default_factory=list)


def parse_user_data(data: object) -> UserData:
    """Check the format and version first (so a newer file gets the clear message, not
    a list of unknown fields), then every record."""
    check_tree(data)
    found = data.get("format") if isinstance(data, dict) else None
    if found != FORMAT:
        if found is None:
            raise Unprocessable(
                N_(
                    "this is not an Interview Lab data file "
                    "(it has no format; expected %(expected)r)"
                ),
                field="format",
                expected=FORMAT,
            )
        raise Unprocessable(
            N_(
                "this is not an Interview Lab data file "
                "(its format is %(found)r; expected %(expected)r)"
            ),
            field="format",
            found=found,
            expected=FORMAT,
        )
    assert isinstance(data, dict)
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise Unprocessable(
            N_("the file's version %(version)r is not a version number"),
            field="version",
            version=version,
        )
    if version > VERSION:
        raise Unprocessable(
            N_(
                "this file is from a newer Interview Lab (version %(version)s); "
                "this one reads version %(reads)s"
            ),
            field="version",
            version=version,
            reads=VERSION,
        )
    if version not in READS:
        raise Unprocessable(
            N_("unknown file version %(version)s; this Interview Lab reads versions %(reads)s"),
            field="version",
            version=version,
            reads=", ".join(str(v) for v in READS),
        )
    for name, added in ADDED_IN.items():
        if version < added and name in data:
            raise Unprocessable(
                N_("%(name)s: a version %(version)s file has no %(name)s"),
                field=name,
                name=name,
                version=version,
            )
    try:
        parsed = UserData.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        raise InvalidRecord(where, first) from None
    _check_records(parsed)
    return parsed


def _check_records(data: UserData) -> None:
    """What the schema cannot say: valid time zone and card states, one card per
    question, a card for every review, one item per quiz position, one note per
    question within the notes' limits, mock interviews as ``check_mocks`` says."""
    if data.user.timezone not in iana_zones():
        raise Unprocessable(
            N_("user.timezone %(zone)r is not an IANA time zone"),
            field="user.timezone",
            zone=data.user.timezone,
        )
    if data.user.fsrs_parameters is not None:
        try:
            check_parameters(data.user.fsrs_parameters)
        except ParamError as exc:
            raise RefusedValue("user.fsrs_parameters", exc.msgid, exc.params) from None
    carded: set[str] = set()
    for n, card in enumerate(data.cards):
        if card.question_id in carded:
            raise Unprocessable(
                N_("cards.%(n)s: a second card for question %(id)r"),
                field=f"cards.{n}.question_id",
                n=n,
                id=card.question_id,
            )
        carded.add(card.question_id)
        _check_state(card.fsrs, f"cards.{n}.fsrs")
    for n, log in enumerate(data.review_logs):
        if log.question_id not in carded:
            raise Unprocessable(
                N_("review_logs.%(n)s: question %(id)r has no card in the file"),
                field=f"review_logs.{n}.question_id",
                n=n,
                id=log.question_id,
            )
        # Undo restores ``card_before``: it must load as well as the card does.
        if log.card_before is not None:
            _check_state(log.card_before, f"review_logs.{n}.card_before")
        _check_state(log.card_after, f"review_logs.{n}.card_after")
    for n, quiz in enumerate(data.quizzes):
        positions = [item.position for item in quiz.items]
        if len(set(positions)) != len(positions):
            raise Unprocessable(
                N_("quizzes.%(n)s: two items at one position"), field=f"quizzes.{n}.items", n=n
            )
        for k, item in enumerate(quiz.items):
            item.payload = _clean_payload(item, f"quizzes.{n}.items.{k}.payload")
    _check_notes(data.notes)
    check_mocks(data.mock_interviews, interviews=len(data.interviews))


def _check_notes(notes: list[NoteData]) -> None:
    """One record per question, each text within the limits a page's form has
    (``app.study.notes.check_text``, kept as that check leaves it)."""
    seen: set[str] = set()
    for n, note in enumerate(notes):
        if note.question_id in seen:
            raise Unprocessable(
                N_("notes.%(n)s: a second note for question %(id)r"),
                field=f"notes.{n}.question_id",
                n=n,
                id=note.question_id,
            )
        seen.add(note.question_id)
        for name in TEXTS:
            text = check_text(name, getattr(note, name), field=f"notes.{n}.{name}")
            setattr(note, name, text)


def _clean_payload(item: QuizItemData, field: str) -> Json:
    """The item's payload checked against its type's shape, with every HTML string
    through the renderer's allow-list (a page prints these with ``|safe``)."""
    try:
        payload = PAYLOADS[item.type].model_validate(item.payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join([field, *(str(p) for p in first["loc"])])
        raise InvalidRecord(where, first) from None
    if isinstance(payload, TakeawayPayload):
        for choice in payload.choices:
            choice.html = sanitize_html(choice.html)
        if payload.answer >= len(payload.choices):
            raise Unprocessable(
                N_("%(field)s: choice %(answer)s of %(count)s"),
                field=f"{field}.answer",
                answer=payload.answer,
                count=len(payload.choices),
            )
    elif isinstance(payload, TrueFalsePayload):
        payload.statement_html = sanitize_html(payload.statement_html)
    elif isinstance(payload, ClozePayload):
        payload.html = sanitize_html(payload.html)
    return payload.model_dump()


def _check_state(state: Json, field: str) -> None:
    try:
        fsrs.Card.from_dict(state)  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Unprocessable(
            N_("%(field)s is not an FSRS card state (%(error)s)"), field=field, error=repr(exc)
        ) from None
