"""Benchmark: every page's server time for a user with a 10,000-question bank and a year of
reviews (issue 19, item 5). Target: the 95th percentile under 100 ms for each page.

    .venv/bin/python bench/pages_bench.py [--questions 10000] [--days 365] [--requests 30]
        [--pages stats,coverage] [--keep DIR]

``--pages`` runs the pages whose name or path contains one of the comma-separated words;
``--keep DIR`` builds the bank in DIR once and reuses it on later runs (same options).

The bank is ``bench/import_bench.py``'s generated one (imported with the app's importer),
plus the seed chapter and its claims so the claims page has something to show. The year of
reviews is simulated with fsrs (20 new cards a day, every due card reviewed, ratings drawn
10 % Again, 15 % Hard, 65 % Good, 10 % Easy) and written with direct inserts. Each page is
requested in-process through the app's ASGI interface; the time is the server's, from the
request's arrival to the last byte of its response (no client or network time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))  # import_bench, as mypy names it too

import fsrs  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from import_bench import generate  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from starlette.types import ASGIApp, Message, Receive, Scope, Send  # noqa: E402

from app.bank import import_bank  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import make_engine, make_sessionmaker, migrate  # noqa: E402
from app.main import create_app, settle  # noqa: E402
from app.models import Card, Question, ReviewLog  # noqa: E402
from app.users.service import local_user  # noqa: E402

TARGET_MS = 100.0
RATINGS = (fsrs.Rating.Again, fsrs.Rating.Hard, fsrs.Rating.Good, fsrs.Rating.Easy)
RATING_WEIGHTS = (0.10, 0.15, 0.65, 0.10)
NEW_PER_DAY = 20


@dataclass
class History:
    cards: list[dict[str, Any]]
    logs: list[dict[str, Any]]


def simulate(
    question_ids: list[str], *, user_id: int, days: int, now: dt.datetime, rng: random.Random
) -> History:
    """A year (``days``) of daily study ending at ``now``: new cards each morning, then
    every card due that day, in due order, a review every 20 seconds from 9:00."""
    scheduler = fsrs.Scheduler(desired_retention=0.9, enable_fuzzing=False)
    start = (now - dt.timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
    fresh = iter(question_ids)
    state: dict[str, fsrs.Card] = {}
    lapses: dict[str, int] = {}
    card_ids: dict[str, int] = {}
    due: list[tuple[dt.datetime, str]] = []
    logs: list[dict[str, Any]] = []
    for day in range(days + 1):
        clock = start + dt.timedelta(days=day)
        day_end = min(clock + dt.timedelta(hours=15), now)
        for qid in (q for _, q in zip(range(NEW_PER_DAY), fresh, strict=False)):
            state[qid] = fsrs.Card(card_id=len(state) + 1, due=clock)
            card_ids[qid] = len(card_ids) + 1
            lapses[qid] = 0
            heapq.heappush(due, (clock, qid))
        while due and due[0][0] <= day_end and clock <= day_end:
            when, qid = heapq.heappop(due)
            clock = max(clock, when) + dt.timedelta(seconds=20)
            card = state[qid]
            rating = rng.choices(RATINGS, RATING_WEIGHTS)[0]
            first = card.last_review is None
            recall = None if first else scheduler.get_card_retrievability(card, clock)
            after, _ = scheduler.review_card(card, rating, clock)
            logs.append(
                {
                    "user_id": user_id,
                    "card_id": card_ids[qid],
                    "question_id": qid,
                    "rating": int(rating),
                    "reviewed_at": clock,
                    "duration_ms": rng.randint(3_000, 40_000),
                    "card_before": None if first else card.to_dict(),
                    "card_after": after.to_dict(),
                    "lapses_before": lapses[qid],
                    "retrievability": recall,
                    "source": "review",
                }
            )
            if card.state == fsrs.State.Review and rating == fsrs.Rating.Again:
                lapses[qid] += 1
            state[qid] = after
            heapq.heappush(due, (after.due, qid))
    reps = dict.fromkeys(state, 0)
    for log in logs:
        reps[log["question_id"]] += 1
    cards = [
        {
            "id": card_ids[qid],
            "user_id": user_id,
            "question_id": qid,
            "fsrs": card.to_dict(),
            "due": card.due,
            "state": int(card.state),
            "reps": reps[qid],
            "lapses": lapses[qid],
            "version": reps[qid],
            "created_at": start,
        }
        for qid, card in state.items()
    ]
    return History(cards=cards, logs=logs)


def build(folder: Path, settings: Settings, *, questions: int, days: int) -> tuple[int, int]:
    """The bank and the year of reviews in ``settings``' database: (cards, reviews)."""
    content = folder / "content"
    (content / "claims").mkdir(parents=True)
    generate(content, questions, 100)
    shutil.copy(REPO_ROOT / "content" / "llm-sft.md", content / "llm-sft.md")
    for claims in (REPO_ROOT / "content" / "claims").glob("*.yaml"):
        shutil.copy(claims, content / "claims" / claims.name)
    engine = make_engine(settings)
    migrate(engine)
    now = dt.datetime.now(dt.UTC)
    factory = make_sessionmaker(engine)
    with factory() as session, session.begin():
        report = import_bank(session, paths=[content], content_dir=content, now=now)
        assert report.ok, report.errors[:5]
    with factory() as session:
        user_id = local_user(session=session).id  # (commits the user it creates)
    with factory() as session, session.begin():
        ids = list(session.scalars(select(Question.id).order_by(Question.id)))
        random.Random(1).shuffle(ids)
        history = simulate(ids, user_id=user_id, days=days, now=now, rng=random.Random(2))
        session.execute(insert(Card), history.cards)
        for i in range(0, len(history.logs), 5_000):
            session.execute(insert(ReviewLog), history.logs[i : i + 5_000])
    engine.dispose()
    return len(history.cards), len(history.logs)


class ServerTimer:
    """ASGI wrapper: the seconds from a request's arrival to its response's last byte."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.last = math.nan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last = time.perf_counter() - start
            await send(message)

        await self.app(scope, receive, timed)


def pages(client: TestClient) -> list[tuple[str, str]]:
    """(name, path) of every page, with a question and a filter that exist."""
    question = client.get("/api/questions", params={"limit": 1}).json()
    first = question["items"][0]["id"] if isinstance(question, dict) else question[0]["id"]
    return [
        ("home", "/"),
        ("review", "/review"),
        ("browse", "/questions"),
        ("browse, filtered", "/questions?company=美团&tag=LoRA&stage=一面"),
        ("browse, search", "/questions?q=LoRA"),
        ("question", f"/questions/{first}"),
        ("stats (coverage matrix in it)", "/stats"),
        ("coverage matrix (API)", "/api/stats/coverage"),
        ("card stats", f"/stats/cards/{first}"),
        ("plan", "/interviews"),
        ("quiz new", "/quizzes"),
        ("demos", "/demos"),
        ("claims", "/claims"),
        ("data", "/data"),
        ("sources", "/sources"),
        ("settings", "/settings"),
    ]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--pages", default="", help="comma-separated words: only those pages")
    parser.add_argument("--keep", type=Path, help="build the bank here once, then reuse it")
    args = parser.parse_args()
    words = [w.strip() for w in args.pages.split(",") if w.strip()]
    with tempfile.TemporaryDirectory(prefix="pages-bench-") as tmp:
        folder = args.keep or Path(tmp)
        settings = Settings(
            data_dir=folder / "data", content_dir=folder / "content", database_url=""
        )
        if args.keep is not None and (folder / "built").exists():
            engine = make_engine(settings)
            migrate(engine)
            engine.dispose()
            print(f"bank: reused from {folder} ({(folder / 'built').read_text().strip()})")
        else:
            start = time.perf_counter()
            cards, reviews = build(folder, settings, questions=args.questions, days=args.days)
            built = f"{args.questions} generated questions + the seed; {cards} cards, "
            built += f"{reviews} reviews over {args.days} days"
            (folder / "built").write_text(built + "\n")
            print(f"bank: {built}, built in {time.perf_counter() - start:.0f} s")
        application = create_app(settings)
        timer = ServerTimer(application)
        with TestClient(timer, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as client:
            settle(application)  # as `serve` does a second after its start
            print(
                f"{'page':32s} {'path':44s} {'p50 ms':>8s} {'p95 ms':>8s} {'cpu p95':>8s}  target"
            )
            missed = 0
            for name, path in pages(client):
                if words and not any(w in name or w in path for w in words):
                    continue
                times, cpu = [], []
                for i in range(args.requests + 2):
                    began = time.process_time()
                    response = client.get(path)
                    assert response.status_code == 200, (path, response.status_code)
                    if i >= 2:  # the first two warm the page's caches
                        times.append(timer.last * 1000)
                        cpu.append((time.process_time() - began) * 1000)
                high = p95(times)
                missed += high >= TARGET_MS
                verdict = "met" if high < TARGET_MS else "NOT met"
                print(
                    f"{name:32s} {path[:44]:44s} {statistics.median(times):8.1f} {high:8.1f}"
                    f" {p95(cpu):8.1f}  < {TARGET_MS:.0f} ms {verdict}"
                )
        print(f"pages over target: {missed}")


if __name__ == "__main__":
    main()
