"""Quizzes through the pages (forms with CSRF) and the JSON API."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.db import make_sessionmaker
from app.models import QuizItem
from tests.web.conftest import MakeClient, csrf, soup


def start(client: TestClient, **fields: Any) -> BeautifulSoup:
    page = soup(client.get("/quizzes"))
    form: dict[str, Any] = {
        "csrf_token": csrf(page),
        "count": "3",
        "focus": "all",
        "types": ["recall", "takeaway", "cloze"],
        "seed": "11",
    }
    form.update(fields)
    response = client.post("/quizzes", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    return soup(client.get(response.headers["location"]))


def answer_current(client: TestClient, page: BeautifulSoup, right: bool) -> BeautifulSoup:
    """Answer the item on ``page`` through its form; returns the next page."""
    quiz = page.select_one("section.quiz")
    assert quiz is not None
    quiz_id, position, kind = quiz["data-quiz"], quiz["data-position"], quiz["data-type"]
    api = client.get(f"/api/quizzes/{quiz_id}").json()
    base = f"/quizzes/{quiz_id}/items/{position}"
    token = csrf(page)
    if kind == "recall":
        checked = soup(
            client.post(f"{base}/check", data={"csrf_token": token, "text": "LoRA 低秩"})
        )
        assert checked.select_one(".recall-check") is not None
        data = {
            "csrf_token": token,
            "text": "LoRA 低秩",
            "self_grade": "true" if right else "false",
        }
    elif kind == "takeaway":
        assert len(page.select("input[name=choice]")) == 4
        assert "answer" not in api["items"][int(str(position))]["payload"]  # not given away
        data = {"csrf_token": token, "choice": "0"}
    else:
        assert page.select_one(".cloze .blank") is not None
        data = {"csrf_token": token, "text": "" if not right else "?"}
    response = client.post(f"{base}/answer", data=data, follow_redirects=True)
    assert response.status_code == 200
    return soup(response)


def test_a_quiz_from_the_form_to_the_results(client: TestClient) -> None:
    page = start(client)
    assert page.select_one("#progress").get_text() == "Question 1 of 3"  # type: ignore[union-attr]
    for _ in range(3):
        page = answer_current(client, page, right=False)
    assert page.select_one("h1").get_text() == "Quiz results"  # type: ignore[union-attr]
    assert page.select_one("#score").get_text().endswith("/3")  # type: ignore[union-attr]
    assert len(page.select("li.mistake")) >= 1
    assert page.select("table.per-tag tbody tr")


def test_fewer_questions_than_asked_says_so(client: TestClient) -> None:
    page = start(client, company=["快手"], count="5")
    assert "Only 1 questions" in page.select_one("#fewer").get_text()  # type: ignore[union-attr]


def test_an_empty_slice_explains_itself(client: TestClient) -> None:
    page = soup(client.get("/quizzes"))
    form = {
        "csrf_token": csrf(page),
        "count": "3",
        "focus": "all",
        "types": ["recall"],
        "q": "不存在的词",
    }
    response = client.post("/quizzes", data=form)
    assert response.status_code == 422
    assert "widen the filters" in soup(response).select_one(".error-message").get_text()  # type: ignore[union-attr]


def test_api_create_answer_results(client: TestClient) -> None:
    created = client.post(
        "/api/quizzes",
        json={
            "company": ["阿里"],
            "tag": ["LoRA"],
            "count": 10,
            "seed": 3,
            "types": ["takeaway", "cloze", "recall"],
        },
    )
    assert created.status_code == 200, created.text
    quiz = created.json()
    assert (quiz["requested"], quiz["size"], quiz["current"]) == (10, 2, 0)
    for item in quiz["items"]:
        body: dict[str, Any] = {"text": "", "self_grade": False}
        if item["type"] == "takeaway":
            body = {"choice": 0}
        answered = client.post(
            f"/api/quizzes/{quiz['id']}/items/{item['position']}/answer", json=body
        ).json()
        assert answered["verdict"] in ("correct", "wrong", "empty", "near")
    results = client.get(f"/api/quizzes/{quiz['id']}/results").json()
    assert results["finished"] and results["total"] == 2
    assert {c["company"] for c in results["per_company"]} >= {"阿里"}
    assert client.get("/api/quizzes/999").status_code == 404


def test_api_rejects_bad_input_naming_the_field(client: TestClient) -> None:
    bad = client.post("/api/quizzes", json={"count": 0})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "count"
    bad = client.post("/api/quizzes", json={"types": ["which-company"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("types")


def test_the_form_offers_tickable_chips_not_multi_selects(make_client: MakeClient) -> None:
    page = soup(make_client(language="zh").get("/quizzes?company=阿里"))
    assert not page.select("select[multiple]")
    companies = page.select("details.facet[data-facet=company] input[type=checkbox]")
    assert {str(c["value"]) for c in companies} >= {"阿里", "阿里国际"}
    assert [str(c["value"]) for c in companies if c.has_attr("checked")] == ["阿里"]
    summaries = [s.get_text(" ", strip=True) for s in page.select("details.facet summary")]
    assert "selected" not in " ".join(summaries)
    assert any("不限" in s for s in summaries) and any("已选 1 项" in s for s in summaries)


def walk(client: TestClient, page: BeautifulSoup) -> tuple[list[str], BeautifulSoup]:
    """Answer every item wrongly through the forms; the kinds seen and the results page."""
    kinds: list[str] = []
    while page.select_one("section.quiz") is not None:
        kinds.append(str(page.select_one("section.quiz")["data-type"]))  # type: ignore[index]
        page = answer_current(client, page, right=False)
    return kinds, page


def test_only_the_ticked_kinds_appear(client: TestClient) -> None:
    kinds, _ = walk(client, start(client, count="10", types=["cloze"]))
    assert kinds and set(kinds) == {"cloze"}  # only the questions a blank fits
    kinds, _ = walk(client, start(client, count="6", types=["takeaway"]))
    assert len(kinds) == 6 and set(kinds) == {"takeaway"}


def test_results_show_your_answer_beside_the_right_one_in_chinese(
    make_client: MakeClient,
) -> None:
    client = make_client(language="zh")
    _, results = walk(client, start(client, count="3", types=["takeaway"]))
    mistakes = results.select("li.mistake")
    assert mistakes  # choice 0 each time: right only where it was the takeaway
    for mistake in mistakes:
        assert mistake.select_one(".verdict").get_text() == "答错"  # type: ignore[union-attr]
        given = mistake.select_one("dd.given").get_text(strip=True)  # type: ignore[union-attr]
        expected = mistake.select_one("dd.expected").get_text(strip=True)  # type: ignore[union-attr]
        assert given and expected and given != expected
    assert "wrong" not in results.get_text()


def test_a_true_false_mistake_shows_its_statement(client: TestClient, engine: Engine) -> None:
    page = start(client, count="1", types=["recall"])
    quiz_id = int(str(page.select_one("section.quiz")["data-quiz"]))  # type: ignore[index]
    with make_sessionmaker(engine)() as session:  # as the builder makes one from a claim
        item = session.scalars(select(QuizItem).where(QuizItem.quiz_id == quiz_id)).one()
        item.type = "truefalse"
        item.payload = {
            "claim_id": "c1",
            "statement_html": "秩 ≤ min(行数, 列数)",
            "answer": 1,
            "explanation": "rank 3 of a 8-column matrix",
        }
        session.commit()
    page = soup(client.get(f"/quizzes/{quiz_id}"))
    data = {"csrf_token": csrf(page), "choice": "0"}
    feedback = soup(client.post(f"/quizzes/{quiz_id}/items/0/answer", data=data))
    mistake = feedback.select_one("li.mistake")
    assert mistake is not None
    assert mistake.select_one("dd.statement").get_text() == "秩 ≤ min(行数, 列数)"  # type: ignore[union-attr]
    assert mistake.select_one("dd.given").get_text() == "False"  # type: ignore[union-attr]
    assert mistake.select_one("dd.expected").get_text(" ", strip=True).startswith("True")  # type: ignore[union-attr]


def test_past_quizzes_say_how_many_were_answered_and_link_to_resume(client: TestClient) -> None:
    """The list of past quizzes reads "1 of 3 answered", not "1/3" (which reads as a
    score), and an unfinished quiz's "resume" is a link to it."""
    page = answer_current(client, start(client), right=True)
    quiz_id = page.select_one("section.quiz")["data-quiz"]  # type: ignore[index]
    [item] = soup(client.get("/quizzes")).select("ul.past-quizzes li")
    assert "1 of 3 answered" in item.get_text(" ")
    resume = item.select_one("a.resume")
    assert resume is not None and resume["href"] == f"/quizzes/{quiz_id}"
    chinese = soup(client.get("/quizzes", headers={"Accept-Language": "zh"}))
    assert "已答 1 / 3 题" in chinese.get_text()
