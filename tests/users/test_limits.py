"""Sign-in brakes: limits by client address and by account answer 429 with Retry-After
and a translated message; at most N argon2 hashes run at once, whatever the load."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.users.limits import AuthGuard, RateLimiter
from tests.users.conftest import Connect, MakeApp, Response
from tests.web.conftest import csrf, soup

PASSWORD = "correct horse"


def post(client: TestClient, mode: str, username: str, password: str) -> Response:
    page = soup(client.get(f"/{mode}"))
    form = {"csrf_token": csrf(page), "username": username, "password": password, "next": "/"}
    return client.post(f"/{mode}", data=form, follow_redirects=False)


def message(response: Response) -> str:
    node = soup(response).select_one(".error-message")
    assert node is not None
    return node.get_text()


def guard(app: FastAPI) -> AuthGuard:
    found: AuthGuard = app.state.auth_guard
    return found


def test_attempts_are_limited_per_client_address(make_app: MakeApp, connect: Connect) -> None:
    app = make_app(auth_per_minute=5)
    assert post(connect(app, "10.0.0.9"), "signup", "alice", PASSWORD).status_code == 303
    attacker = connect(app, "10.0.0.1")
    for _ in range(5):
        assert post(attacker, "login", "alice", "guess guess").status_code == 401
    blocked = post(attacker, "login", "alice", PASSWORD)  # even the right password
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    assert "Too many attempts from your address" in message(blocked)
    assert post(attacker, "signup", "mallory", PASSWORD).status_code == 429
    # Another address is not held up by this one.
    assert post(connect(app, "10.0.0.2"), "login", "alice", PASSWORD).status_code == 303
    chinese = post(connect(app, "10.0.0.1", language="zh"), "login", "alice", PASSWORD)
    assert chinese.status_code == 429 and "秒后再试" in message(chinese)


def test_failed_sign_ins_are_limited_per_account(make_app: MakeApp, connect: Connect) -> None:
    app = make_app(auth_per_minute=100, auth_failures_per_account=3)
    assert post(connect(app, "10.0.0.9"), "signup", "alice", PASSWORD).status_code == 303
    assert post(connect(app, "10.0.0.9"), "signup", "bob-smith", PASSWORD).status_code == 303
    for i in range(3):  # a botnet: each guess from another address
        assert post(connect(app, f"10.1.0.{i}"), "login", "alice", "guess guess").status_code == 401
    blocked = post(connect(app, "10.2.0.1"), "login", "ALICE", PASSWORD)
    assert blocked.status_code == 429
    assert 60 <= int(blocked.headers["retry-after"]) <= 15 * 60
    assert "for this username" in message(blocked)
    assert post(connect(app, "10.2.0.1"), "login", "bob-smith", PASSWORD).status_code == 303


def burst(clients: list[TestClient], username: str, password: str) -> list[Response]:
    """Every client posts a sign-in at the same moment."""
    forms = [
        {"csrf_token": csrf(soup(c.get("/login"))), "username": username, "password": password}
        for c in clients
    ]
    start = threading.Barrier(len(clients))

    def one(i: int) -> Response:
        start.wait()
        return clients[i].post("/login", data=forms[i], follow_redirects=False)

    with ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(one, range(len(clients))))


def test_concurrent_wrong_sign_ins_hash_at_most_n_at_once(
    make_app: MakeApp, connect: Connect
) -> None:
    app = make_app(
        auth_per_minute=1000,
        auth_failures_per_account=1000,
        hash_concurrency=2,
        hash_wait_seconds=60,
    )
    assert post(connect(app), "signup", "alice", PASSWORD).status_code == 303
    responses = burst([connect(app, f"10.3.0.{i}") for i in range(16)], "alice", "guess guess")
    assert [r.status_code for r in responses] == [401] * 16
    assert 1 <= guard(app).hashing.peak <= 2


def test_sign_ins_past_the_wait_get_503_with_retry_after(
    make_app: MakeApp, connect: Connect
) -> None:
    app = make_app(
        auth_per_minute=1000,
        auth_failures_per_account=1000,
        hash_concurrency=1,
        hash_wait_seconds=0,
    )
    assert post(connect(app), "signup", "alice", PASSWORD).status_code == 303
    responses = burst([connect(app, f"10.4.0.{i}") for i in range(12)], "alice", "guess guess")
    statuses = {r.status_code for r in responses}
    assert statuses <= {401, 503} and 503 in statuses, statuses
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.headers["retry-after"] == "1" and "busy" in message(busy)
    assert guard(app).hashing.peak == 1


def test_token_buckets_refill_and_forget_the_oldest_keys() -> None:
    limiter = RateLimiter(capacity=2, period=60, max_keys=3)
    assert limiter.take("a", now=0) == 0 and limiter.take("a", now=0) == 0
    assert limiter.take("a", now=0) == 30  # one attempt back every 30 s
    assert limiter.wait("a", now=15) == 15  # waiting takes nothing
    assert limiter.take("a", now=30) == 0
    for key in "bcd":  # "a" is the least recently used of four keys: dropped
        limiter.take(key, now=30)
    assert limiter.wait("a", now=30) == 0
