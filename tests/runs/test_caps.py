"""The per-user cap on waiting runs holds under real concurrency, on SQLite and
PostgreSQL: it is enforced in the database, not by a count the caller trusts."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.errors import TooManyRequests
from app.models import DemoRun, User
from app.runs.service import create_run
from tests.runs.conftest import add_user

CAP = 3
POSTS = 20


def _post_concurrently(engine: Engine, user: User, posts: int) -> list[str]:
    """``posts`` threads, each with its own session, create a run at the same moment."""
    barrier = threading.Barrier(posts)
    outcomes: list[str] = []
    lock = threading.Lock()

    def post(seed: int) -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                create_run(
                    session=session,
                    user=user,
                    demo_name="rank",
                    raw_params={"seed": seed},
                    rerun=True,
                    now=dt.datetime.now(dt.UTC),
                    queued_cap=CAP,
                    per_minute=1000,
                )
                outcome = "queued"
            except TooManyRequests:
                outcome = "429"
            except Exception as exc:  # anything else is a bug (a 500 for the user)
                outcome = f"error: {type(exc).__name__}: {exc}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=post, args=(seed,)) for seed in range(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_posts_never_queue_more_than_the_cap(any_engine: Engine) -> None:
    user = add_user(any_engine, "racer")
    outcomes = _post_concurrently(any_engine, user, POSTS)
    assert sorted(outcomes) == ["429"] * (POSTS - CAP) + ["queued"] * CAP
    with Session(any_engine) as session:
        waiting = session.scalar(
            select(func.count(DemoRun.id)).where(
                DemoRun.user_id == user.id, DemoRun.status == "queued"
            )
        )
    assert waiting == CAP


def test_one_users_cap_does_not_block_another(any_engine: Engine) -> None:
    first, second = add_user(any_engine, "first"), add_user(any_engine, "second")
    assert _post_concurrently(any_engine, first, CAP + 2).count("queued") == CAP
    assert _post_concurrently(any_engine, second, CAP).count("queued") == CAP
