"""CPU time of one review round trip measured in-process (no HTTP, no other process):
the ASGI app called directly (middlewares, routing, dependencies, endpoints, services;
uvicorn's HTTP parsing left out) and the services alone (session, user row, next card,
counts, question, rating). A bank of generated questions is imported into a temporary
data folder first; accounts are off (the local user).

    .venv/bin/python bench/review_cpu.py [--trips 300] [--questions 3000] [--profile]

Run it from two checkouts on the same data (``--data DIR`` keeps and reuses the folder)
to compare old and new code: the CPU time is ``time.process_time`` per round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path.cwd()
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def prepare(data: Path, questions: int) -> None:
    if (data / "content").exists():
        return
    # Only here: import_bench puts its own checkout first on sys.path.
    from import_bench import generate

    (data / "content").mkdir(parents=True)
    generate(data / "content", questions, 100)
    env = dict(os.environ, IL_DATA_DIR=str(data / "data"), IL_CONTENT_DIR=str(data / "content"))
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "app", "import"],
        env=env,
        cwd=REPO_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


async def call(app: Any, method: str, path: str, body: bytes = b"") -> Any:
    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers + [(b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    chunks: list[bytes] = []
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    if status != 200:
        raise RuntimeError(f"{method} {path}: HTTP {status} {b''.join(chunks)[:300]!r}")
    return json.loads(b"".join(chunks))


async def asgi_trips(app: Any, n: int) -> None:
    for _ in range(n):
        card = (await call(app, "GET", "/api/review/next"))["card"]
        rating = {
            "question_id": card["question"]["id"],
            "rating": 3,
            "version": card["version"],
            "duration_ms": 1000,
        }
        await call(app, "POST", "/api/review/rate", json.dumps(rating).encode())


def service_trips(factory: Any, n: int) -> None:
    from app.content.filters import QuestionFilter
    from app.content.queries import get_question
    from app.study import review
    from app.users.service import local_user

    flt = QuestionFilter()
    for _ in range(n):
        now = dt.datetime.now(dt.UTC)
        with factory() as session:
            user = local_user(session=session)
            shown = review.next_card(session=session, user=user, flt=flt, now=now)
            review.queue_counts(session=session, user=user, flt=flt, now=now)
            assert shown is not None
            get_question(session=session, question_id=shown.question_id)
        with factory() as session:
            user = local_user(session=session)
            review.rate(
                session=session,
                user=user,
                question_id=shown.question_id,
                rating=3,
                version=shown.version,
                duration_ms=1000,
                now=dt.datetime.now(dt.UTC),
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trips", type=int, default=300)
    parser.add_argument("--questions", type=int, default=3000)
    parser.add_argument("--data", help="data folder to keep and reuse (default: temporary)")
    parser.add_argument("--profile", action="store_true", help="print the top of a profile")
    args = parser.parse_args()
    data = Path(args.data or tempfile.mkdtemp())
    prepare(data, args.questions)
    os.environ.update(IL_DATA_DIR=str(data / "data"), IL_WORKERS="0", IL_ACCOUNTS="false")
    os.environ.pop("DATABASE_URL", None)
    from sqlalchemy import update

    from app.config import Settings
    from app.main import create_app
    from app.models import User
    from app.users.service import local_user

    app = create_app(Settings())
    factory = app.state.sessionmaker
    with factory() as session:
        local_user(session=session)
        session.execute(update(User).values(new_per_day=99999))
        session.commit()
    asyncio.run(asgi_trips(app, 20))  # warm-up, creates the local user
    service_trips(factory, 20)
    profile = cProfile.Profile() if args.profile else None

    def asgi() -> None:
        asyncio.run(asgi_trips(app, args.trips))

    def services() -> None:
        service_trips(factory, args.trips)

    runs: tuple[tuple[str, Callable[[], None]], ...] = (("ASGI app", asgi), ("services", services))
    for label, run in runs:
        if profile is not None:
            profile.enable()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        run()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        if profile is not None:
            profile.disable()
        print(
            f"{label:<9} {cpu / args.trips * 1000:6.2f} ms CPU per round trip "
            f"({wall / args.trips * 1000:.2f} ms wall, {args.trips} trips)"
        )
    if profile is not None:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
