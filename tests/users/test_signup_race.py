"""Concurrent sign-ups of one name (in any case or width): one account, the others a
409 "taken", never a 500, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.models import User
from tests.users.conftest import BACKENDS, Connect, MakeApp, Response
from tests.web.conftest import csrf, soup

NAMES = ["carol", "Carol", "CAROL", "ｃａｒｏｌ", " carol ", "cArOl", "carol", "Carol"]


def accounts(app: FastAPI) -> list[tuple[str, str]]:
    with app.state.sessionmaker() as session:
        return [(u.username, u.username_key) for u in session.scalars(select(User))]


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_concurrent_sign_ups_of_one_name_make_one_account(
    make_app: MakeApp, connect: Connect
) -> None:
    # Enough hashing slots that every request is past the "taken?" check before any
    # commits: the database's unique index decides.
    app = make_app(auth_per_minute=1000, hash_concurrency=len(NAMES), hash_wait_seconds=60)
    clients = [connect(app, f"10.5.0.{i}") for i in range(len(NAMES))]
    tokens = [csrf(soup(c.get("/signup"))) for c in clients]
    start = threading.Barrier(len(NAMES))

    def sign_up(i: int) -> Response:
        form = {"csrf_token": tokens[i], "username": NAMES[i], "password": "correct horse"}
        start.wait()
        return clients[i].post("/signup", data=form, follow_redirects=False)

    with ThreadPoolExecutor(len(NAMES)) as pool:
        responses = list(pool.map(sign_up, range(len(NAMES))))
    assert sorted(r.status_code for r in responses) == [303] + [409] * (len(NAMES) - 1)
    for response in responses:
        if response.status_code == 409:
            assert "is taken" in response.text
    assert [key for _, key in accounts(app)] == ["carol"]
