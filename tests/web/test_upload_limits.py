"""Hostile user-data files on ``/data`` and the API: deep nesting, numbers Python cannot
read or a database cannot store, and oversized uploads get a 4xx naming the problem.
The Sources page's upload is bounded while it arrives: a too-large ``Content-Length`` is
refused before the body is read, and without one (or with one that lies) reading stops
at the limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.export import userdata_json
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
    assert (userdata_json.MAX_DEPTH, userdata_json.MAX_NUMBER_DIGITS) == (64, 40)


SOURCE_LIMIT = 2**20  # bytes of files in one Sources upload, for these tests (1 MiB)
BOUNDARY = "s18boundary"


@pytest.fixture
def small_sources_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    """The Sources upload bounded to ``SOURCE_LIMIT`` bytes; returns the body limit."""
    from app.sources import uploads
    from app.web import sources_pages

    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", SOURCE_LIMIT)
    monkeypatch.setattr(sources_pages, "FORM_OVERHEAD", 1000)
    return SOURCE_LIMIT + 1000


def _multipart_head() -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="big.md"\r\n'
        "Content-Type: text/markdown\r\n\r\n# Big\n\n"
    ).encode()


def _post_streamed(app: Any, *, chunks: int, headers: dict[str, str]) -> tuple[int, str, int]:
    """POST /sources/upload with a body of ``chunks`` 4 KiB chunks sent one by one
    (no Content-Length unless ``headers`` says one); the status, the page's error and
    how many bytes the app pulled from the body."""
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        head = _multipart_head()
        pulled += len(head)
        yield head
        for _ in range(chunks):
            pulled += 4096
            yield b"x" * 4095 + b"\n"

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            content_type = f"multipart/form-data; boundary={BOUNDARY}"
            return await http.post(
                "/sources/upload",
                content=body(),
                headers={"Content-Type": content_type, "Accept-Language": "en", **headers},
            )

    response = asyncio.run(send())
    error = soup(response).select_one("#source-error")
    return response.status_code, error.get_text() if error else response.text, pulled


def test_a_sources_upload_declared_too_large_is_refused_before_reading(
    client: TestClient, small_sources_limit: int
) -> None:
    status, message, pulled = _post_streamed(
        client.app, chunks=1000, headers={"Content-Length": str(1000 * 4096 + 200)}
    )
    assert status == 413
    assert message == "the upload is over 1 MiB"
    assert pulled == 0  # not one byte of the body was read


def test_a_sources_upload_without_a_length_stops_at_the_limit(
    client: TestClient, small_sources_limit: int, settings: Any
) -> None:
    status, message, pulled = _post_streamed(client.app, chunks=1000, headers={})
    assert status == 413 and "the upload is over" in message
    # 4 MB offered; the app stopped within a chunk of its limit.
    assert pulled <= small_sources_limit + 2 * 4096
    assert not any(Path(settings.data_dir / "uploads").glob("*/*"))


def test_a_sources_upload_whose_length_lies_stops_at_the_limit(
    client: TestClient, small_sources_limit: int
) -> None:
    status, _, pulled = _post_streamed(client.app, chunks=1000, headers={"Content-Length": "500"})
    assert status == 413
    assert pulled <= small_sources_limit + 2 * 4096


def test_a_sources_upload_under_the_limit_is_staged(
    client: TestClient, small_sources_limit: int
) -> None:
    token = csrf(soup(client.get("/sources")))
    files = [("files", ("ok.md", b"# Ok\n\n### Q. What is it?\n\nThis.\n", "text/markdown"))]
    response = client.post("/sources/upload", data={"csrf_token": token}, files=files)
    assert response.status_code == 200
    assert soup(response).select_one("form[action='/sources/confirm']") is not None
    big = [("files", ("big.md", b"# Big\n" + b"x" * SOURCE_LIMIT, "text/markdown"))]
    response = client.post("/sources/upload", data={"csrf_token": token}, files=big)
    assert response.status_code == 413
    assert soup(response).select_one("#source-error") is not None
