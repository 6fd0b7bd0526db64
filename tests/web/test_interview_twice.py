"""A double-submitted interview form (or two concurrent posts) adds one interview; a
different stage or date is another interview."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from app.config import Settings
from app.db import make_engine, make_sessionmaker, migrate
from app.models import Interview
from app.study.interviews import add_interview
from app.users.service import local_user
from tests.web.conftest import csrf, soup
from tests.web.test_plan_pages import in_days

NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def count(engine: Engine) -> int:
    with make_sessionmaker(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(Interview)) or 0)


def test_a_form_posted_twice_adds_one_interview(client: TestClient) -> None:
    token = csrf(soup(client.get("/interviews")))
    form = {"csrf_token": token, "company": "阿里", "role": "", "stage": "一面"}
    for _ in range(2):
        response = client.post(
            "/interviews", data=form | {"date": in_days(3)}, follow_redirects=False
        )
        assert response.status_code == 303
    assert len(soup(client.get("/interviews")).select("li.interview")) == 1
    # Another stage, or another day, is another interview.
    client.post("/interviews", data=form | {"date": in_days(4)}, follow_redirects=False)
    client.post(
        "/interviews", data=form | {"stage": "二面", "date": in_days(3)}, follow_redirects=False
    )
    assert len(soup(client.get("/interviews")).select("li.interview")) == 3
    added = client.post(
        "/api/interviews", json={"company": "阿里", "stage": "一面", "date": in_days(3)}
    )
    assert added.status_code == 201
    assert len(client.get("/api/interviews").json()) == 3


def concurrent_adds(engine: Engine, n: int = 8) -> list[int]:
    factory = make_sessionmaker(engine)
    with factory() as session:
        local_user(session=session)
        session.commit()
    ids: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def add() -> None:
        try:
            with factory() as session:
                user = local_user(session=session)
                barrier.wait()
                interview = add_interview(
                    session=session,
                    user=user,
                    company="字节",
                    role=None,
                    stage="一面",
                    date=NOW.date() + dt.timedelta(days=5),
                    now=NOW,
                )
                ids.append(interview.id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=add) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return ids


def test_concurrent_adds_make_one_interview_on_sqlite(settings: Settings, tmp_path: Path) -> None:
    engine = make_engine(settings.model_copy(update={"data_dir": tmp_path / "race"}))
    migrate(engine)
    ids = concurrent_adds(engine)
    assert len(set(ids)) == 1 and count(engine) == 1
    engine.dispose()


def test_concurrent_adds_make_one_interview_on_postgres(settings: Settings, pg_url: str) -> None:
    engine = make_engine(settings.model_copy(update={"database_url": pg_url}))
    migrate(engine)
    ids = concurrent_adds(engine)
    assert len(set(ids)) == 1 and count(engine) == 1
    engine.dispose()
