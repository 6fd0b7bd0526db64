"""Hostile user-data files on ``/data`` and the API: deep nesting, numbers Python cannot
read or a database cannot store, and oversized uploads get a 4xx naming the problem."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.export import userdata_file
from tests.web.conftest import csrf, soup


def upload(client: TestClient, content: bytes) -> tuple[int, str]:
    token = csrf(soup(client.get("/data")))
    files = {"file": ("mine.json", content, "application/json")}
    response = client.post("/import/data", data={"csrf_token": token}, files=files)
    error = soup(response).select_one("#import-error")
    return response.status_code, error.get_text() if error is not None else response.text


def _wrapped(value: str) -> bytes:
    return ('{"format": "interview-lab-userdata", "version": 1, "x": ' + value + "}").encode()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"[" * 200_000 + b"]" * 200_000, "nests more than 64 levels"),
        (_wrapped("[" * 100 + "]" * 100), "nests more than 64 levels"),
        (_wrapped("1" * 5000), "a number 5000 characters long"),
        (_wrapped("1e999"), "the number 1e999, too large"),
        (_wrapped("NaN"), "NaN, which is not a JSON number"),
        (_wrapped("-Infinity"), "-Infinity, which is not a JSON number"),
    ],
)
def test_hostile_json_is_refused_naming_the_problem(
    client: TestClient, content: bytes, reason: str
) -> None:
    status, message = upload(client, content)
    assert status == 422
    assert reason in message


def test_the_api_refuses_numbers_a_database_cannot_store(client: TestClient) -> None:
    body = _wrapped("NaN")
    response = client.post(
        "/api/import/data", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "file" and "NaN" in response.json()["detail"]


def test_an_upload_over_the_limit_is_refused_as_too_large(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.web import export_pages

    monkeypatch.setattr(export_pages, "MAX_UPLOAD", 1000)
    status, message = upload(client, b" " * 2000 + b"{}")
    assert status == 413
    assert "larger than" in message


def test_limits_are_what_the_notes_say() -> None:
    assert (userdata_file.MAX_DEPTH, userdata_file.MAX_NUMBER_DIGITS) == (64, 40)
