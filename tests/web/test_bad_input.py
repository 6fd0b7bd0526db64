"""Bad input gets a 4xx that names the field, never a server error: absurd numbers in
forms and queries, a missing row behind a form, HEAD on pages, and the error page after
the request's session rolled back."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient

from tests.web.conftest import MakeClient, csrf, soup

# Python's int() refuses strings over 4,300 digits (ValueError): more than that.
HUGE = "9" * 5000
FORM_PAGES = ("/review", "/quizzes", "/settings", "/demos/rank", "/interviews")


def form_defaults(page: BeautifulSoup, form: Tag) -> dict[str, str]:
    """What a browser posts from ``form`` untouched (first option, first button)."""
    data: dict[str, str] = {}
    for field in form.select("input[name], textarea[name], select[name], button[name]"):
        name = str(field["name"])
        if field.name == "select":
            option = field.select_one("option[selected]") or field.select_one("option")
            value = str(option.get("value", option.get_text())) if option else ""
        elif field.get("type") in ("checkbox", "radio") and not field.has_attr("checked"):
            continue
        else:
            value = str(field.get("value", field.get_text() if field.name == "textarea" else ""))
        data.setdefault(name, value)
    return data | {"csrf_token": csrf(page)}


@pytest.mark.parametrize("path", FORM_PAGES)
def test_a_number_too_long_for_int_in_any_form_field_is_not_a_server_error(
    client: TestClient, path: str
) -> None:
    page = soup(client.get(path))
    forms = page.select("form[method=post]")
    assert forms, f"{path} has no form"
    for form in forms:
        action = str(form.get("action") or path)
        defaults = form_defaults(page, form)
        for name in sorted(defaults.keys() - {"csrf_token"}):
            data = defaults | {name: HUGE}
            response = client.post(action, data=data, follow_redirects=False)
            assert response.status_code < 500, (action, name, response.text[-300:])
            if response.status_code in (400, 422):
                message = soup(response).select_one(".error-message, .error, [role=alert]")
                assert message is not None and message.get_text(strip=True), (action, name)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/questions?offset=" + "9" * 25, "offset"),
        ("/api/questions?offset=" + HUGE, "offset"),
        ("/api/questions?limit=" + HUGE, "limit"),
        ("/api/quizzes/" + "9" * 25, "quiz_id"),
        ("/api/runs/" + "9" * 25, "run_id"),
    ],
)
def test_an_absurd_number_in_the_api_is_a_422_naming_the_field(
    client: TestClient, url: str, field: str
) -> None:
    response = client.get(url)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["field"] == field and body["detail"].startswith(f"{field}:")


def test_a_card_version_beyond_any_column_is_a_422(client: TestClient) -> None:
    card = client.get("/api/review/next").json()["card"]
    body = {"question_id": card["question"]["id"], "rating": 3, "version": 2**31}
    response = client.post("/api/review/rate", json=body)
    assert response.status_code == 422 and response.json()["field"] == "version"


def test_deleting_a_missing_interview_shows_a_404_page(client: TestClient) -> None:
    page = soup(client.get("/interviews"))
    response = client.post("/interviews/999/delete", data={"csrf_token": csrf(page)})
    assert response.status_code == 404
    message = soup(response).select_one(".error-message")
    assert message is not None and "999" in message.get_text()


def test_deleting_a_missing_interview_through_the_api_is_a_404(client: TestClient) -> None:
    response = client.delete("/api/interviews/999")
    assert response.status_code == 404
    assert response.json() == {"detail": "you have no interview 999", "field": "interview_id"}


def test_the_error_page_after_a_rollback_keeps_the_sign_out_button(
    make_client: MakeClient,
) -> None:
    """With accounts, the page header's "Sign out" reads the user: after the route's
    rollback that user is expired and detached, and must not be loaded again."""
    client = make_client(accounts=True)
    page = soup(client.get("/signup"))
    form = {"csrf_token": csrf(page), "username": "ada", "password": "a long passphrase 1"}
    client.post("/signup", data=form)
    page = soup(client.get("/interviews"))
    assert page.select_one("form[action='/logout']") is not None, "not signed in"
    response = client.post("/interviews/999/delete", data={"csrf_token": csrf(page)})
    assert response.status_code == 404
    assert soup(response).select_one("form[action='/logout']") is not None


@pytest.mark.parametrize("path", ["/", "/questions", "/review", "/claims", "/api/chapters"])
def test_head_on_a_page_answers_like_get_without_the_body(client: TestClient, path: str) -> None:
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]


def test_head_on_a_post_only_route_is_still_405(client: TestClient) -> None:
    assert client.head("/api/review/undo").status_code == 405


def test_head_on_a_live_event_stream_ends_after_the_headers(client: TestClient) -> None:
    run = client.post("/api/demos/rank/runs", json={"params": {"seed": 3}}).json()
    head = client.head(f"/api/runs/{run['id']}/events")  # queued: GET would stream on
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("text/event-stream")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh", "地址中的 page=0（页码） 无法使用：必须至少为 1"),
        ("en", "In this address, page=0 (Page number) cannot be used: must be at least 1"),
    ],
)
def test_a_page_names_a_bad_query_field_in_the_readers_language(
    client: TestClient, language: str, expected: str
) -> None:
    client.cookies.set("lang", language)
    response = client.get("/questions", params={"page": "0"})
    assert response.status_code == 400  # a link the page cannot use, not a form
    shown = soup(response).select_one("main").get_text(" ", strip=True)  # type: ignore[union-attr]
    assert expected.replace("：", ": ") in shown.replace("：", ": "), shown
    assert client.get("/api/questions", params={"limit": "0"}).json()["field"] == "limit"


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("url", ["/runs/abc", "/runs/" + "9" * 25, "/no/such/page"])
def test_a_wrong_page_address_is_a_404_page_in_the_readers_language(
    make_client: MakeClient, url: str, language: str
) -> None:
    """A page's own address that cannot be (a run id that is no number) is no page,
    not a form to check; and the 404 page says so in the reader's language, never in
    Starlette's English ("Not Found"). The API keeps its 422 naming the field."""
    client = make_client(language=language)
    response = client.get(url)
    assert response.status_code == 404
    page = soup(response)
    title = page.select_one("h1")
    message = page.select_one(".error-message")
    assert title is not None and message is not None
    text = title.get_text() + message.get_text()
    assert "Not Found" not in text and "run_id" not in text
    expected = "这个地址没有页面" if language == "zh" else "There is no page at this address"
    assert expected in message.get_text()
    if url.startswith("/runs/"):
        assert client.get("/api" + url).json()["field"] == "run_id"


@pytest.mark.parametrize(
    ("url", "api", "zh", "en"),
    [
        ("/runs/99999", "/api/runs/99999", "运行 99999 不存在", "run 99999 does not exist"),
        ("/quizzes/99999", "/api/quizzes/99999", "测验 99999 不存在", "quiz 99999 does not exist"),
        ("/demos/nope", "/api/demos/nope", "演示 'nope' 不存在", "demo 'nope' does not exist"),
    ],
)
def test_a_missing_thing_is_named_in_the_readers_language_and_in_english_by_the_api(
    make_client: MakeClient, url: str, api: str, zh: str, en: str
) -> None:
    client = make_client(language="zh")
    page = client.get(url)
    assert page.status_code == 404
    parsed = soup(page)
    assert parsed.select_one("h1").get_text(strip=True) == "页面不存在"  # type: ignore[union-attr]
    assert parsed.select_one(".error-message").get_text(strip=True) == zh  # type: ignore[union-attr]
    response = client.get(api)
    assert response.status_code == 404 and response.json()["detail"] == en
