"""Accounts: sign-up, sign-in, sign-out, CSRF, and each user sees only their progress."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.users.conftest import Response
from tests.web.conftest import MakeClient, csrf, soup


def sign_up(client: TestClient, username: str, password: str = "correct horse") -> None:
    page = soup(client.get("/signup"))
    form = {"csrf_token": csrf(page), "username": username, "password": password, "next": "/"}
    response = client.post("/signup", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text


def error_text(response: object) -> str:
    node = soup(response).select_one(".error-message")
    assert node is not None, "the form shows no error"
    return node.get_text()


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
    assert "wrong username or password" in error_text(response).lower()
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
    assert "username" in error_text(response)


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


def sign_in(client: TestClient, username: str, password: str) -> Response:
    page = soup(client.get("/login"))
    form = {"csrf_token": csrf(page), "username": username, "password": password, "next": "/"}
    return client.post("/login", data=form, follow_redirects=False)


def sign_out(client: TestClient) -> None:
    client.post("/logout", data={"csrf_token": csrf(soup(client.get("/")))})


def test_a_cookie_copied_before_sign_out_no_longer_works(make_client: MakeClient) -> None:
    client = make_client(accounts=True)
    sign_up(client, "alice")
    copied = client.cookies["il_session"]
    sign_out(client)
    thief = make_client(accounts=True)
    thief.cookies.set("il_session", copied)
    assert thief.get("/api/review/next").status_code == 401
    # Signing in again issues a new cookie that works; the copied one stays dead.
    assert sign_in(client, "alice", "correct horse").status_code == 303
    assert client.get("/api/review/next").status_code == 200
    assert thief.get("/api/review/next").status_code == 401


def test_signing_out_signs_out_every_browser_of_the_account(make_client: MakeClient) -> None:
    laptop, phone = make_client(accounts=True), make_client(accounts=True)
    sign_up(laptop, "alice")
    assert sign_in(phone, "alice", "correct horse").status_code == 303
    sign_out(laptop)
    assert phone.get("/api/review/next").status_code == 401


def test_names_differing_in_case_or_width_are_one_account(make_client: MakeClient) -> None:
    client = make_client(accounts=True)
    sign_up(client, "Alice")
    other = make_client(accounts=True)
    page = soup(other.get("/signup"))
    for name in ("alice", "ALICE", " ａｌｉｃｅ "):
        form = {"csrf_token": csrf(page), "username": name, "password": "another horse"}
        response = other.post("/signup", data=form)
        assert response.status_code == 409, name
        assert "is taken" in error_text(response)
    for name in ("alice", "ALICE", "ａｌｉｃｅ"):
        assert sign_in(other, name, "correct horse").status_code == 303, name
    assert sign_in(other, "local", "correct horse").status_code == 401  # the built-in user


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        (" " * 8, "only spaces"),
        (" " * 12, "only spaces"),
        ("\x00" * 12, "control characters"),
        ("good password\x00", "control characters"),
        ("123456789", "at least 10 characters"),
        ("Password123", "most common"),
        ("qwertyuiop", "most common"),
        ("1234567890", "most common"),
        (" Alice-1984 ", "cannot be the username"),
    ],
)
def test_weak_passwords_are_refused_naming_the_field(
    make_client: MakeClient, password: str, reason: str
) -> None:
    client = make_client(accounts=True)
    page = soup(client.get("/signup"))
    form = {"csrf_token": csrf(page), "username": "alice-1984", "password": password}
    response = client.post("/signup", data=form)
    assert response.status_code == 422
    message = error_text(response)
    assert "password" in message and reason in message, message
    assert sign_in(client, "alice-1984", password).status_code == 401  # no account was made


def test_policy_messages_are_translated(make_client: MakeClient) -> None:
    client = make_client(accounts=True, language="zh")
    page = soup(client.get("/signup"))
    form = {"csrf_token": csrf(page), "username": "alice", "password": "short"}
    message = error_text(client.post("/signup", data=form))
    assert "密码" in message and "10" in message, message
    assert "10" in str(soup(client.get("/signup")).select_one("input[name=password]"))
