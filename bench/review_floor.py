"""The review bench's floor (``bench/review_bench.py`` serves it beside the app and the
ceiling): a bare FastAPI app with the review loop's two routes doing only what the loop
needs, so the bench measures how close to the ceiling the app could get at all.

Each request checks the signed session cookie (itsdangerous, as Starlette's session
middleware does), then runs the same SQL statements the app's endpoints run (the very statement
objects of ``app.study.queue_sql``, ``app.content.queries`` and ``app.study.review``; the
user row and the card's write built once here as the app's ORM builds them) on an engine
made by ``app.db.make_engine`` (the same SQLite pragmas and pool), and computes the same
fsrs outcomes. What it leaves out:
the app's three middlewares and ~200 other routes, FastAPI dependencies, the ORM (rows
read as tuples, no identity map), pydantic models (plain dicts to ``json.dumps``), the
interview plan (the bench's accounts have no interview: its check still runs) and the
filter from the query string (the bench sends none). Like the app's endpoints it is a
sync ``def`` (one thread-pool hop), so a slow query does not stop the event loop.

    uvicorn review_floor:app   (with the app's environment: IL_DATA_DIR, DATABASE_URL, ...)
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any, cast

from fastapi import FastAPI, HTTPException, Request, Response
from fsrs import Rating
from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy import Connection, Table, bindparam, insert, select, update

from app.config import Settings, session_secret
from app.content import queries
from app.content.filters import QuestionFilter
from app.db import make_engine
from app.models import Card, fsrs_columns
from app.models import User as UserRow
from app.study import queue_sql, review, scheduler
from app.study.days import REVIEW_SOURCE, day_start, user_zone
from app.study.shown import fuzz_rng

settings = Settings()
engine = make_engine(settings)
signer = TimestampSigner(session_secret(settings))
ALL = QuestionFilter()  # the bench sends no filter
app = FastAPI()
UserTuple = tuple[int, str, int, float, Any]  # id, timezone, new_per_day, retention, weights
QUESTION_KEYS = (  # the first 13 columns of queries._QUESTION
    "title",
    "title_html",
    "chapter_slug",
    "chapter_title",
    "section",
    "answer_md",
    "answer_html",
    "takeaway",
    "takeaway_html",
    "key_terms",
    "reference_links",
    "source_file",
    "source_line",
)
# The statements the app builds in its ORM layer, built once here.
USER = select(
    UserRow.id,
    UserRow.timezone,
    UserRow.new_per_day,
    UserRow.desired_retention,
    UserRow.fsrs_parameters,
).where(UserRow.id == bindparam("id"), UserRow.session_generation == bindparam("generation"))
CARD_INSERT = insert(cast(Table, Card.__table__))
CARD_UPDATE = (
    update(Card)
    .where(Card.id == bindparam("card_id"), Card.version == bindparam("shown"))
    .values(reps=Card.reps + 1)
)


def _user(request: Request, conn: Connection) -> UserTuple:
    try:
        raw = signer.unsign(request.cookies["il_session"].encode(), max_age=30 * 24 * 3600)
        cookie = json.loads(base64.b64decode(raw))
    except (KeyError, BadSignature, ValueError) as exc:
        raise HTTPException(401) from exc
    params = {"id": cookie["user_id"], "generation": cookie["generation"]}
    row = conn.execute(USER, params).first()
    if row is None:
        raise HTTPException(401)
    return (row[0], row[1], row[2], row[3], row[4])


def _day(timezone: str, now: dt.datetime) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """Today in the user's zone, and its bounds in UTC (``app.study.days``)."""
    zone = user_zone(UserRow(timezone=timezone))
    today = now.astimezone(zone).date()
    return today, day_start(today, zone), day_start(today + dt.timedelta(days=1), zone)


def _question(conn: Connection, question_id: str) -> dict[str, Any]:
    """``app.content.queries.get_question``'s two statements."""
    params = {"question_id": question_id}
    q = conn.execute(queries._QUESTION, params).one()
    parts: list[Any] = list(conn.execute(queries._ASKED_AND_TAGS, params))
    out: dict[str, Any] = dict(zip(QUESTION_KEYS, q[:13], strict=True))
    out["archived"] = q[13] is not None
    out["asked"] = [
        {"company": p[2], "role": p[3], "stage": p[4], "date": p[5] and p[5].isoformat()}
        for p in parts
        if p[0] == 0
    ]
    out["tags"] = [p[2] for p in parts if p[0] == 1]
    return out | {"id": question_id}


def _outcome(o: scheduler.Outcome) -> dict[str, Any]:
    seconds = int(o.interval.total_seconds())
    return {"label": o.label, "due": o.due.isoformat(), "interval_seconds": seconds}


@app.get("/api/review/next")
def next_card(request: Request) -> Response:
    now = dt.datetime.now(dt.UTC)
    with engine.connect() as conn:
        user_id, timezone, new_per_day, retention, weights = _user(request, conn)
        day = _day(timezone, now)
        today, start, end = day
        params = {"user_id": user_id, "today": today, "start": start, "end": end, "now": now}
        _, started_today = conn.execute(queue_sql.INTERVIEW_AND_STARTED, params).one()
        row = conn.execute(queue_sql.first_card(ALL, False), params).first()
        card = (row.question_id, row.version, row.state, row.fsrs) if row is not None else None
        if card is None and new_per_day - int(started_today or 0) > 0:
            new_id = conn.execute(queue_sql.first_new(ALL), params).scalar()
            card = (new_id, 0, 0, None) if new_id is not None else None
        counts_row: Any = conn.execute(queue_sql.counts(ALL), params).one()
        due, total, carded, first, reviewed = counts_row[:5]
        question = _question(conn, card[0]) if card is not None else None
    counts = {
        "due_today": due,
        "new_left_today": max(0, min(new_per_day - first, total - carded)),
        "new_available": total - carded,
        "reviewed_today": reviewed,
        "streak_days": 1 if reviewed else 0,
    }
    if card is None or question is None:
        return Response(json.dumps({"card": None, "counts": counts}), media_type="application/json")
    rng = fuzz_rng(user_id=user_id, question_id=card[0], version=card[1])
    previews = scheduler.preview(
        card[3], desired_retention=retention, now=now, rng=rng, parameters=weights
    )
    shown = {
        "question": question,
        "version": card[1],
        "state": card[2],
        "previews": {int(r): _outcome(o) for r, o in previews.items()},
    }
    body = json.dumps({"card": shown, "counts": counts}, ensure_ascii=False)
    return Response(body, media_type="application/json")


@app.post("/api/review/rate")
def rate(request: Request, body: dict[str, Any]) -> Response:
    now = dt.datetime.now(dt.UTC)
    question_id, version, grade = body["question_id"], body["version"], Rating(body["rating"])
    with engine.connect() as conn:
        user_id, _, _, retention, weights = _user(request, conn)
        found = (
            conn.execute(
                review._QUESTION_AND_CARD, {"user_id": user_id, "question_id": question_id}
            )
            .one()
            ._mapping
        )
        card_id, before = found["id"], found["fsrs"]
        shown = found["version"]
        if card_id is None and version != 0 or card_id is not None and shown != version:
            raise HTTPException(409)
        rng = fuzz_rng(user_id=user_id, question_id=question_id, version=version)
        o = scheduler.apply(
            before, grade, desired_retention=retention, now=now, rng=rng, parameters=weights
        )
        values = {"fsrs": o.card, "due": o.due, "state": int(o.state), "version": version + 1}
        values |= fsrs_columns(o.card)  # as review.rate writes them
        if card_id is None:
            new = {"user_id": user_id, "question_id": question_id, "reps": 1, "lapses": 0}
            key = conn.execute(CARD_INSERT, values | new | {"created_at": now}).inserted_primary_key
            assert key is not None
            card_id = key[0]
        else:
            conn.execute(CARD_UPDATE, values | {"card_id": card_id, "shown": version})
        log = {
            "user_id": user_id,
            "card_id": card_id,
            "question_id": question_id,
            "rating": int(grade),
            "reviewed_at": now,
            "duration_ms": body.get("duration_ms"),
            "card_after": o.card,
            "lapses_before": found["lapses"] or 0,
            "source": REVIEW_SOURCE,
        }
        if before is not None:
            log["card_before"] = before
        conn.execute(review._LOG_INSERT, log)
        conn.commit()
    result = _outcome(o) | {"question_id": question_id, "state": int(o.state)}
    result |= {"version": version + 1, "duplicate": False}
    return Response(json.dumps(result), media_type="application/json")
