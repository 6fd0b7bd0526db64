"""Inputs and requests that must not hurt: other sites, absurd numbers, answers leaked
early, a queue that is down."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.models import DemoRun
from tests.web.conftest import csrf, soup


def test_another_site_cannot_change_data_through_the_api(client: TestClient) -> None:
    card = client.get("/api/review/next").json()["card"]
    body = {"question_id": card["question"]["id"], "rating": 3, "version": 0}
    assert client.post("/api/review/rate", json=body).status_code == 200
    evil = {"Origin": "https://evil.example"}
    assert client.post("/api/review/undo", headers=evil).status_code == 403
    assert (
        client.post("/api/review/undo", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    )
    assert client.get("/api/stats").json()["reviewed_today"] == 1  # nothing was undone
    same = {"Origin": "http://127.0.0.1"}
    assert client.post("/api/review/undo", headers=same).json()["question_id"]


def test_absurd_ids_and_numbers_are_4xx(client: TestClient) -> None:
    huge = "99999999999999999999999"
    for url in (f"/api/quizzes/{huge}", f"/api/runs/{huge}"):
        assert client.get(url).status_code == 422, url  # the API names the field
    for url in (f"/quizzes/{huge}", f"/runs/{huge}"):
        assert client.get(url).status_code == 404, url  # a page: no page at that address
    page = soup(client.get("/quizzes"))
    form = {
        "csrf_token": csrf(page),
        "count": "1",
        "focus": "all",
        "types": ["cloze", "recall", "takeaway"],
        "seed": "²",
    }
    location = client.post("/quizzes", data=form, follow_redirects=False).headers["location"]
    quiz_id = location.rsplit("/", 1)[1]
    answer = {
        "csrf_token": csrf(page),
        "text": "x",
        "choice": "²",
        "self_grade": "false",
        "duration_ms": "9" * 30,
    }
    response = client.post(f"/quizzes/{quiz_id}/items/0/answer", data=answer)
    assert response.status_code == 200  # the answer is kept; the odd duration is dropped


def test_a_takeaway_item_does_not_give_its_answer_away(client: TestClient) -> None:
    quiz = client.post("/api/quizzes", json={"types": ["takeaway"], "count": 10, "seed": 1}).json()
    for item in quiz["items"]:
        payload = item["payload"]
        assert "answer" not in payload and "key_terms" not in payload
        for choice in payload.get("choices", []):
            assert set(choice) == {"html"}


class DownQueue:
    def submit(self, run_id: int) -> None:
        raise ConnectionError("Redis is down")


def test_a_queue_that_is_down_fails_the_run_instead_of_stranding_it(client: TestClient) -> None:
    client.app.state.dispatcher = DownQueue()  # type: ignore[attr-defined]
    response = client.post("/api/demos/rank/runs", json={"params": {"seed": 3}})
    assert response.status_code == 503 and "queue" in response.json()["detail"]
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with factory() as session:
        run = session.query(DemoRun).one()
        assert run.status == "failed" and "Redis is down" in (run.error or "")
