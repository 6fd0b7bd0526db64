"""Accounts: sign-up, sign-in, sign-out, CSRF, and each user sees only their progress."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import MakeClient, csrf, soup


def sign_up(client: TestClient, username: str, password: str = "correct horse") -> None:
    page = soup(client.get("/signup"))
    form = {"csrf_token": csrf(page), "username": username, "password": password, "next": "/"}
    response = client.post("/signup", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text


def test_pages_ask_to_sign_in_and_the_api_says_401(make_client: MakeClient) -> None:
    client = make_client(accounts=True)
    response = client.get("/review", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/review")
    assert client.get("/api/review/next").status_code == 401
    assert client.get("/questions").status_code == 200  # the bank itself is public


def test_sign_up_sign_out_sign_in(make_client: MakeClient) -> None:
    client = make_client(accounts=True)
    sign_up(client, "alice")
    cookie = client.cookies.get("il_session")
    assert cookie
    assert client.get("/api/review/next").status_code == 200
    page = soup(client.get("/"))
    client.post("/logout", data={"csrf_token": csrf(page)})
    assert client.get("/api/review/next").status_code == 401
    page = soup(client.get("/login"))
    wrong = {"csrf_token": csrf(page), "username": "alice", "password": "nope nope", "next": "/"}
    response = client.post("/login", data=wrong)
    assert response.status_code == 401
    assert "wrong username or password" in soup(response).select_one(".error-message").get_text()  # type: ignore[union-attr]
    right = dict(wrong, password="correct horse", csrf_token=csrf(soup(client.get("/login"))))
    assert client.post("/login", data=right, follow_redirects=False).status_code == 303
    assert client.get("/api/review/next").status_code == 200


def test_session_cookie_is_http_only_and_same_site(make_client: MakeClient) -> None:
    client = make_client(accounts=True)
    page = soup(client.get("/signup"))
    form = {"csrf_token": csrf(page), "username": "carol", "password": "long enough", "next": "/"}
    response = client.post("/signup", data=form, follow_redirects=False)
    header = response.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=lax" in header


def test_sign_up_needs_csrf_and_a_valid_name(make_client: MakeClient) -> None:
    client = make_client(accounts=True)
    client.get("/signup")
    response = client.post("/signup", data={"username": "bob", "password": "long enough"})
    assert response.status_code == 403
    page = soup(client.get("/signup"))
    bad = {"csrf_token": csrf(page), "username": "b!", "password": "long enough", "next": "/"}
    response = client.post("/signup", data=bad)
    assert response.status_code == 422
    assert "username" in soup(response).select_one(".error-message").get_text()  # type: ignore[union-attr]


def test_each_user_sees_only_their_own_progress(make_client: MakeClient) -> None:
    alice = make_client(accounts=True)
    bob = make_client(accounts=True)
    sign_up(alice, "alice")
    sign_up(bob, "bob")
    card = alice.get("/api/review/next").json()["card"]
    alice.post(
        "/api/review/rate",
        json={"question_id": card["question"]["id"], "rating": 3, "version": card["version"]},
    )
    assert alice.get("/api/stats").json()["reviewed_today"] == 1
    assert bob.get("/api/stats").json()["reviewed_today"] == 0
    assert bob.post("/api/review/undo").json()["question_id"] is None
