"""The stats pages and their JSON API on the seed bank: the heatmap, charts with their
number tables, coverage cells that lead to a review (and a quiz) of exactly their
questions, leeches put back through a form, a card's history, the leech threshold
setting."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from fsrs import Rating
from sqlalchemy import select

from app.content.tags import fold
from app.models import Card, Question
from app.study import review
from app.users.service import local_user
from tests.web.conftest import MakeClient, csrf, soup


def history(client: TestClient, question_id: str, ratings: list[int], start: dt.datetime) -> None:
    """Rate ``question_id`` with ``ratings`` one day apart from ``start`` (the past)."""
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with factory() as session:
        user = local_user(session=session)
        for i, rating in enumerate(ratings):
            row = session.scalars(select(Card).where(Card.question_id == question_id)).first()
            review.rate(
                session=session,
                user=user,
                question_id=question_id,
                rating=rating,
                version=row.version if row is not None else 0,
                duration_ms=2000,
                now=start + dt.timedelta(days=i, minutes=10 * i),
            )
            session.expire_all()


def noon_days_ago(days: int) -> dt.datetime:
    """Noon UTC ``days`` ago: a history from there never straddles midnight."""
    noon = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    return noon - dt.timedelta(days=days)


def first_question(client: TestClient) -> str:
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with factory() as session:
        return str(session.scalars(select(Question.id).order_by(Question.position)).first())


def question(client: TestClient, question_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/questions/{question_id}").json()
    return body


def test_stats_page_with_no_history(client: TestClient) -> None:
    page = soup(client.get("/stats"))
    assert [a["href"] for a in page.select("header nav a")][:4] == [
        "/questions",
        "/review",
        "/interviews",
        "/stats",
    ]
    cells = page.select("#heatmap .heat")
    today = dt.date.fromisoformat(str(cells[-1]["data-day"]))
    assert len(cells) == 52 * 7 + today.weekday() + 1
    assert all(c["aria-label"].endswith(": 0 reviews") for c in cells)  # type: ignore[union-attr]
    assert page.select_one("#no-leeches") is not None
    # Every chart has a table of its numbers.
    for chart in ("reviews", "forecast", "states"):
        canvas = page.select_one(f"canvas[data-chart={chart}]")
        assert canvas is not None and canvas.find_next("details").select_one("table")  # type: ignore[union-attr]
    states = {r.th.get_text(): r.td.get_text() for r in page.select("#states-table tr")}  # type: ignore[union-attr]
    assert states["New"] == "10" and states["Leeches"] == "0"


def test_every_link_on_the_stats_page_works(client: TestClient) -> None:
    page = soup(client.get("/stats"))
    links = {str(a["href"]).split("#")[0] for a in page.select("main a[href^='/']")}
    assert links
    for link in sorted(links):
        assert client.get(link).status_code == 200, link


def test_a_coverage_cell_reviews_and_quizzes_exactly_its_questions(client: TestClient) -> None:
    page = soup(client.get("/stats"))
    cells = page.select("#coverage-company td.cov[data-row]")
    assert cells, "the seed bank has companies and topics"
    for td in cells:
        assert td.select_one("a.cov-review").get_text().endswith("%")  # type: ignore[union-attr]
        assert "0 of" in str(td["title"])  # nothing reviewed yet: 0 of n reviewed
    td = cells[0]
    company, topic = str(td["data-row"]), str(td["data-topic"])
    link = str(td.select_one("a.cov-review")["href"])  # type: ignore[index]
    assert urlsplit(link).path == "/review"
    assert parse_qs(urlsplit(link).query) == {"company": [company], "tag": [topic]}
    shown = soup(client.get(link)).select_one("#card")
    assert shown is not None
    asked = question(client, str(shown["data-question"]))
    assert company in [a["company"] for a in asked["asked"]]
    assert fold(topic) in [fold(t) for t in asked["tags"]]
    quiz = str(td.select_one("a.cov-quiz")["href"])  # type: ignore[index]
    assert urlsplit(quiz).path == "/quizzes" and parse_qs(urlsplit(quiz).query)["tag"] == [topic]
    form = soup(client.get(quiz)).select_one("form.quiz-new")
    assert form is not None
    # The facet chips preselect exactly that cell: its company and its topic.
    ticked = {
        (str(box["name"]), str(box["value"]))
        for box in form.select("details.facet input[type=checkbox][checked]")
    }
    assert ticked == {("company", company), ("tag", topic)}
    # Submitted as it stands, the form quizzes that cell's questions and no others.
    data = submitted(form)
    started = client.post("/quizzes", data=data, follow_redirects=False)
    assert started.status_code == 303, started.text
    quiz_id = started.headers["location"].rstrip("/").split("/")[-1]
    items = client.get(f"/api/quizzes/{quiz_id}").json()["items"]
    # Every kind is ticked (recall fits any question): each of the cell's questions.
    assert len(items) == min(int(str(td["data-questions"])), int(data["count"])) > 0
    for item in items:
        asked = question(client, item["question_id"])
        assert company in [a["company"] for a in asked["asked"]]
        assert fold(topic) in [fold(t) for t in asked["tags"]]


def submitted(form: Any) -> dict[str, Any]:
    """What a browser posts for ``form`` as shown: every named input's value, checkboxes
    and radio buttons only when checked (the same name's values as a list)."""
    data: dict[str, Any] = {}
    for field in form.select("input[name]"):
        kind = str(field.get("type", "text"))
        if kind in ("checkbox", "radio") and not field.has_attr("checked"):
            continue
        name, value = (
            str(field["name"]),
            str(field.get("value", "on" if kind == "checkbox" else "")),
        )
        if name in data and kind == "checkbox":
            data[name] = [*([data[name]] if isinstance(data[name], str) else data[name]), value]
        else:
            data[name] = value
    return data


def test_reviews_show_in_the_overview_and_a_cards_history(client: TestClient) -> None:
    q = first_question(client)
    start = noon_days_ago(10)
    history(client, q, [Rating.Good, Rating.Good, Rating.Again], start)
    body = client.get("/api/stats/overview").json()
    assert sum(d["reviews"] for d in body["days"]) == 3
    assert sum(d["seconds"] for d in body["days"]) == 6.0
    assert {r["days"] for r in body["retention"]} == {30, None}
    assert len(body["forecast"]) == 30
    assert body["states"]["new"] == 9

    page = soup(client.get("/stats"))
    summary = page.select_one("#year-summary")
    assert summary is not None and summary["data-reviews"] == "3"
    assert summary["data-days"] == "3"  # one day apart
    assert page.select_one(f"ol.weakest a[href='/stats/cards/{q}']") is not None

    card = soup(client.get(f"/stats/cards/{q}"))
    rows = card.select("#history tbody tr")
    assert [r["class"][0] for r in rows] == ["rating-3", "rating-3", "rating-1"]
    api = client.get(f"/api/stats/cards/{q}").json()
    assert [e["rating"] for e in api["history"]] == [3, 3, 1]
    assert api["history"][0]["retrievability"] is None
    assert 0 < api["history"][2]["retrievability"] < 1
    shown_days = [float(str(r["data-interval-days"])) for r in rows]
    assert shown_days == pytest.approx([e["interval_days"] for e in api["history"]], abs=1e-6)

    missing = client.get("/api/stats/cards/nope")
    assert missing.status_code == 404 and missing.json()["field"] == "question_id"
    assert client.get("/stats/cards/nope").status_code == 404


def test_a_leech_is_listed_and_put_back_with_the_form(client: TestClient) -> None:
    assert client.put("/api/settings", json={"leech_threshold": 1}).status_code == 200
    q = first_question(client)
    start = noon_days_ago(40)
    # Learning, graduated, then a lapse at the threshold of 1.
    history(client, q, [Rating.Good, Rating.Good, Rating.Again], start)
    leeches = client.get("/api/stats/leeches").json()
    assert [(x["question_id"], x["lapses"]) for x in leeches] == [(q, 1)]

    page = soup(client.get("/stats"))
    item = page.select_one(f"li.leech[data-question='{q}']")
    assert item is not None
    assert item.select_one(f"a.title[href='/questions/{q}']") is not None
    assert item.select_one(f"a[href='/stats/cards/{q}']") is not None
    form = item.select_one("form")
    assert form is not None and form["action"] == f"/stats/leeches/{q}/restore"
    assert page.select_one("#states-table") is not None
    card_page = soup(client.get(f"/stats/cards/{q}"))
    assert card_page.select_one("#leech-notice") is not None

    forged = client.post(str(form["action"]), data={"csrf_token": "forged"})
    assert forged.status_code == 403
    done = client.post(str(form["action"]), data={"csrf_token": csrf(page)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/stats#leeches"
    assert client.get("/api/stats/leeches").json() == []
    assert soup(client.get("/stats")).select_one("#no-leeches") is not None
    again = client.post(f"/api/stats/leeches/{q}/restore")
    assert again.json() == {"question_id": q, "restored": False}


def test_the_leech_threshold_is_a_setting(make_client: MakeClient) -> None:
    client = make_client()
    page = soup(client.get("/settings"))
    field = page.select_one("input[name=leech_threshold]")
    assert field is not None and field["value"] == "8"
    form = {
        "csrf_token": csrf(page),
        "new_per_day": "20",
        "desired_retention": "0.90",
        "timezone": "UTC",
        "leech_threshold": "5",
    }
    assert client.post("/settings", data=form, follow_redirects=False).status_code == 303
    assert client.get("/api/settings").json()["leech_threshold"] == 5
    form["leech_threshold"] = "0"
    response = client.post("/settings", data=form)
    assert response.status_code == 422
    assert "leech_threshold" in soup(response).select_one(".error-message").get_text()  # type: ignore[union-attr]
    bad = client.put("/api/settings", json={"leech_threshold": 101})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "leech_threshold"


def test_coverage_api_and_the_queue_stats_api_are_apart(client: TestClient) -> None:
    body = client.get("/api/stats/coverage").json()
    assert body["questions"] == 10 and body["reviewed"] == 0
    assert body["companies"]["facet"] == "company" and body["stages"]["facet"] == "stage"
    assert set(client.get("/api/stats").json()) == {
        "due_today",
        "new_left_today",
        "new_available",
        "reviewed_today",
        "streak_days",
    }


def test_the_stats_api_is_documented_and_guarded(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/stats/overview",
        "/api/stats/coverage",
        "/api/stats/leeches",
        "/api/stats/leeches/{question_id}/restore",
        "/api/stats/cards/{question_id}",
    ):
        assert path in paths
    assert "/stats" not in paths  # pages stay out of the API docs
    evil = {"Origin": "https://evil.example"}
    q = first_question(client)
    assert client.post(f"/api/stats/leeches/{q}/restore", headers=evil).status_code == 403
