"""The mock interview JSON API: the whole round trip, and refusals naming the field."""

from __future__ import annotations

from fastapi.testclient import TestClient

QLORA = "llm-sft-624f78fb"  # key terms 量化后的 LORA, 4-bit 量化, 4-bit, 4 倍


def test_a_mock_interview_over_the_api(client: TestClient) -> None:
    created = client.post(
        "/api/mock", json={"company": "阿里国际", "stage": "一面", "count": 3, "seed": 1}
    )
    assert created.status_code == 201, created.text
    mock = created.json()
    assert (mock["requested"], mock["limit_s"], mock["share_s"], mock["current"]) == (
        3,
        1800,
        600,
        0,
    )
    assert [a["question_id"] for a in mock["attempts"]][:2] == ["llm-sft-bc57451c", QLORA]
    assert all(a["points"] == [] for a in mock["attempts"])  # nothing given away before
    base = f"/api/mock/{mock['id']}/items"
    for position, attempt in enumerate(mock["attempts"]):
        shown = client.post(f"{base}/{position}/show").json()
        assert shown["shown_at"] is not None and shown["answered_at"] is None
        answered = client.post(f"{base}/{position}/answer", json={"text": "量化后的 LORA"})
        body = answered.json()
        assert body["duration_ms"] >= 0 and body["text"] == "量化后的 LORA"
        if attempt["question_id"] == QLORA:
            assert body["points"] == ["量化后的 LORA", "4-bit 量化", "4-bit", "4 倍"]
            assert body["matched"] == [True, False, False, False]
        covered = [i for i, hit in enumerate(body["matched"]) if hit]
        graded = client.post(f"{base}/{position}/grade", json={"rating": 2, "covered": covered})
        assert graded.json()["rating"] == 2
    done = client.get(f"/api/mock/{mock['id']}").json()
    assert done["finished_at"] is not None and done["current"] is None
    report = client.get(f"/api/mock/{mock['id']}/report").json()
    assert report["finished"] and len(report["items"]) == 3
    assert len(report["review_next"]) == 3  # every answer graded Hard
    history = client.get(f"/api/questions/{QLORA}/attempts").json()
    assert [(h["covered"], h["points"], h["rating"]) for h in history] == [(1, 4, 2)]


def test_the_api_refuses_naming_the_field(client: TestClient) -> None:
    for body, field in (
        ({"count": 0}, "count"),
        ({"minutes": 999}, "minutes"),
        ({"company": "Nowhere"}, "company"),
        ({"interview_id": 5}, "interview_id"),
        ({"stage": "一面\x00"}, "stage"),
    ):
        response = client.post("/api/mock", json=body)
        assert response.status_code in (404, 422), body
        assert response.json()["field"] == field
    mock = client.post("/api/mock", json={"count": 1, "seed": 2}).json()
    item = f"/api/mock/{mock['id']}/items/0"
    early = client.post(f"{item}/grade", json={"rating": 3})
    assert early.status_code == 409 and early.json()["field"] == "position"
    client.post(f"{item}/answer", json={"text": ""})
    bad = client.post(f"{item}/grade", json={"rating": 9})
    assert bad.status_code == 422 and bad.json()["field"] == "rating"
    assert client.get(f"/api/mock/{mock['id'] + 1}").status_code == 404
    assert client.post(f"/api/mock/{mock['id']}/items/3/show").status_code == 404
    assert client.get("/api/questions/nope/attempts").status_code == 404
