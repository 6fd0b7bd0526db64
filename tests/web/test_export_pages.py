"""The "Your data" page: the Anki and JSON downloads (headers and contents), the upload
form (CSRF, refusals, replace), a move to a fresh database, and the same in the API."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.config import Settings
from app.main import create_app
from app.models import MockInterview
from app.users.service import local_user
from tests.export.history import make_history, make_mocks, seeded_engine
from tests.web.conftest import MakeClient, csrf, local_client, number, soup


def note_ids(apkg: bytes, tmp_path: Path) -> list[str]:
    """The QuestionId field of every note in the deck's SQLite collection."""
    with zipfile.ZipFile(io.BytesIO(apkg)) as z:
        path = tmp_path / f"c{len(list(tmp_path.glob('c*')))}.anki2"
        path.write_bytes(z.read("collection.anki2"))
    with sqlite3.connect(path) as db:
        return [flds.split("\x1f")[4] for (flds,) in db.execute("SELECT flds FROM notes")]


def with_history(client: TestClient) -> None:
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with factory() as session:
        user = local_user(session=session)
        make_history(session, user)
        make_mocks(session, user)


def upload(
    client: TestClient, content: bytes, *, replace: bool = False, token: str | None = None
) -> Any:
    token = token if token is not None else csrf(soup(client.get("/data")))
    form = {"csrf_token": token} | ({"replace": "true"} if replace else {})
    files = {"file": ("mine.json", content, "application/json")}
    return client.post("/import/data", data=form, files=files)


@pytest.fixture
def other(settings: Settings, tmp_path: Path, content_dir: Path) -> Iterator[TestClient]:
    """A second app on a fresh database with the same bank (another machine)."""
    engine: Engine = seeded_engine(settings, tmp_path / "other", content_dir)
    app_settings = settings.model_copy(update={"data_dir": tmp_path / "other"})
    with local_client(create_app(app_settings), headers={"Accept-Language": "en"}) as client:
        yield client
    engine.dispose()


def test_data_page_offers_both_downloads_and_the_upload_form(client: TestClient) -> None:
    page = soup(client.get("/data"))
    assert page.select_one("#anki-download")["href"] == "/export/anki.apkg"  # type: ignore[index]
    assert page.select_one("#data-download")["href"] == "/export/data.json"  # type: ignore[index]
    form = page.select_one("form.import-form")
    assert form is not None and form["enctype"] == "multipart/form-data"
    assert form.select_one("input[type=file][name=file]") is not None
    assert form.select_one("input[name=csrf_token]") is not None
    assert number(page, "#count-cards") == 0
    footer = soup(client.get("/")).select_one("footer a[href='/data']")
    assert footer is not None


def test_anki_download_headers_and_notes(client: TestClient, tmp_path: Path) -> None:
    response = client.get("/export/anki.apkg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/apkg"
    assert response.headers["content-disposition"] == 'attachment; filename="interview-lab.apkg"'
    assert len(note_ids(response.content, tmp_path)) == 10


def test_browse_filters_carry_to_the_anki_download(client: TestClient, tmp_path: Path) -> None:
    browse = soup(client.get("/questions?company=快手"))
    link = browse.select_one("#export-anki")
    assert link is not None
    response = client.get(str(link["href"]))
    assert 'filename="interview-lab-filtered.apkg"' in response.headers["content-disposition"]
    shown = [str(li["data-id"]) for li in browse.select("li.question-item")]
    assert sorted(note_ids(response.content, tmp_path)) == sorted(shown)
    page = soup(client.get("/data?company=快手"))  # the data page offers the same slice
    assert page.select_one("#anki-filtered") is not None
    href = str(page.select_one("#anki-download")["href"])  # type: ignore[index]
    assert sorted(note_ids(client.get(href).content, tmp_path)) == sorted(shown)
    assert client.get("/export/anki.apkg?q=没有这个词").status_code == 422


def test_json_download_headers_and_contents(client: TestClient) -> None:
    with_history(client)
    page = soup(client.get("/data"))
    assert number(page, "#count-interviews") == 1
    response = client.get("/export/data.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="interview-lab-local-{today}.json"'
    data = response.json()
    assert data["format"] == "interview-lab-userdata" and data["version"] == 3
    assert len(data["mock_interviews"]) == number(page, "#count-mocks") == 2
    assert len(data["cards"]) == number(page, "#count-cards")


def test_upload_into_a_fresh_database_gives_the_same_data(
    client: TestClient, other: TestClient
) -> None:
    with_history(client)
    mine = client.get("/export/data.json").content

    response = upload(other, mine)

    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("#imported") is not None and page.select_one("#skipped") is None
    assert number(page, "#count-cards") == len(json.loads(mine)["cards"])
    drop = {"exported_at"}
    copied = {k: v for k, v in other.get("/export/data.json").json().items() if k not in drop}
    assert copied == {k: v for k, v in json.loads(mine).items() if k not in drop}
    assert page.select_one("#imported-mocks") is not None and number(page, "#count-mocks") == 2


def _text(node: Any) -> str:
    return " ".join(node.get_text(" ", strip=True).split()) if node is not None else ""


def mock_pages(client: TestClient) -> list[Any]:
    """What the report, comparison and history pages of each mock interview show."""
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with factory() as session:
        mocks = session.scalars(select(MockInterview).order_by(MockInterview.created_at)).all()
        asked = [(m.id, [a.question_id for a in m.attempts]) for m in mocks]
    shown: list[Any] = []
    for mock_id, questions in asked:
        report = soup(client.get(f"/mock/{mock_id}/report"))
        rows = [[_text(td) for td in tr.select("td")] for tr in report.select("#mock-items tr")]
        parts = ("#total-time", "#total-points", "#weakest", "#review-next", "#unfinished")
        totals = [_text(report.select_one(part)) for part in parts]
        given = [
            _text(soup(client.get(f"/mock/{mock_id}/items/{n}")).select_one(".given"))
            for n, row in enumerate(rows[1:])
            if row[2] != "–"  # answered: its comparison page
        ]
        history = [
            [_text(li) for li in soup(client.get(f"/questions/{q}/attempts")).select("li.attempt")]
            for q in questions
        ]
        shown.append((rows, totals, given, history))
    return shown


def test_mock_interviews_move_with_the_file(client: TestClient, other: TestClient) -> None:
    with_history(client)
    mine = client.get("/export/data.json").content
    assert upload(other, mine).status_code == 200
    before, after = mock_pages(client), mock_pages(other)
    assert len(before) == 2 and before[0][0][1][4] == "Good"  # graded; times and points shown
    assert before[0][2] and before[0][3][0] and before[1][1][4]  # answers, history, unfinished
    assert after == before


def test_upload_refusals_show_why_and_change_nothing(client: TestClient) -> None:
    with_history(client)
    mine = client.get("/export/data.json").content
    before = client.get("/export/data.json").json()["cards"]

    assert upload(client, mine, token="forged").status_code == 403
    newer = json.dumps(json.loads(mine) | {"version": 4}).encode()
    response = upload(client, newer, replace=True)
    assert response.status_code == 422
    error = soup(response).select_one("#import-error")
    assert error is not None
    assert "newer Interview Lab (version 4); this one reads version 3" in error.get_text()
    response = upload(client, b"not json")
    assert response.status_code == 422 and "not valid JSON" in response.text
    response = upload(client, mine)  # the user has data: replacing needs the box ticked
    assert response.status_code == 409
    error = soup(response).select_one("#import-error")
    assert error is not None and "already have study data" in error.get_text()
    assert "2 mock interviews)" in error.get_text()
    assert client.get("/export/data.json").json()["cards"] == before

    response = upload(client, mine, replace=True)
    assert response.status_code == 200
    notice = soup(response).select_one("#imported")
    assert notice is not None and "previous data was replaced" in notice.get_text()
    assert client.get("/export/data.json").json()["cards"] == before


def test_api_export_and_import(client: TestClient, other: TestClient, tmp_path: Path) -> None:
    with_history(client)
    data = client.get("/api/export/data").json()
    assert data["version"] == 3

    response = other.post("/api/import/data", json=data | {"version": 4})
    assert response.status_code == 422
    assert response.json()["field"] == "version"
    assert "newer Interview Lab" in response.json()["detail"]
    response = other.post("/api/import/data", json=data)
    assert response.status_code == 200, response.text
    assert response.json()["cards"] == len(data["cards"])
    assert response.json()["mock_interviews"] == 2
    assert other.post("/api/import/data", json=data).status_code == 409
    replaced = other.post("/api/import/data?replace=true", json=data).json()
    assert replaced["replaced"] is True and replaced["unknown_questions"] == []

    deck = other.get("/api/export/anki.apkg?company=美团")
    assert deck.status_code == 200 and deck.headers["content-type"] == "application/apkg"
    assert 0 < len(note_ids(deck.content, tmp_path)) < 10
    paths = other.get("/openapi.json").json()["paths"]
    assert {"/api/export/data", "/api/import/data", "/api/export/anki.apkg"} <= set(paths)


def test_accounts_keep_data_private(make_client: MakeClient) -> None:
    client = make_client(accounts=True)
    response = client.get("/export/data.json", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert client.get("/api/export/data").status_code == 401


def test_an_upload_refusal_is_in_the_readers_language(make_client: MakeClient) -> None:
    """The import page says why a file was refused in Chinese on a Chinese page; the
    API keeps the English detail."""
    client = make_client(language="zh")
    response = upload(client, b"not json")
    assert response.status_code == 422
    error = soup(response).select_one("#import-error")
    assert error is not None
    assert "文件不是有效的 JSON（第 1 行第 1 列：Expecting value）" in error.get_text()
    newer = json.dumps({"format": "interview-lab-userdata", "version": 99}).encode()
    error = soup(upload(client, newer)).select_one("#import-error")
    assert error is not None and "来自更新的 Interview Lab（版本 99）" in error.get_text()
    api = client.post("/api/import/data", json={"format": "x", "version": 3})
    assert api.status_code == 422 and api.json()["detail"].startswith(
        "this is not an Interview Lab data file (its format is 'x'"
    )


def _broken(content: bytes, where: str, value: Any) -> bytes:
    """``content`` (a user-data file) with the value at the dotted path ``where`` set to
    ``value`` (``...`` deletes it)."""
    data = json.loads(content)
    *parents, last = where.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is ...:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("where", "value", "zh", "en"),
    [
        (
            "cards.0.due",
            "soon",
            "cards.0.due：必须是日期和时间",
            "Input should be a valid datetime",
        ),
        (
            "cards.0.due",
            "2026-03-05T10:00:00",
            "cards.0.due：需要带时区",
            "should have timezone info",
        ),
        ("cards.0.due", ..., "cards.0.due：此项必填", "Field required"),
        ("cards.0.state", 9, "cards.0.state：必须至多为 3", "less than or equal to 3"),
        ("cards.0.reps", "many", "cards.0.reps：必须是整数", "valid integer"),
        ("cards.0.fsrs", [], "cards.0.fsrs：必须是对象", "valid dictionary"),
        ("cards.0.colour", "red", "cards.0.colour：不应出现在这里（未知字段）", "Extra inputs"),
        ("cards", "many", "cards：必须是列表", "valid list"),
        (
            "user.quiz_feeds_reviews",
            "maybe",
            "user.quiz_feeds_reviews：必须是 true 或 false",
            "boolean",
        ),
        ("user.timezone", "x" * 65, "user.timezone：最多 64 个字符", "at most 64 characters"),
        (
            "interviews.0.date",
            "2026-03-05T10:00:00Z",
            "interviews.0.date：必须是不带时刻的日期",
            "zero time",
        ),
        (
            "quizzes.0.items.0.type",
            "essay",
            "quizzes.0.items.0.type：必须是以下之一：'recall', 'takeaway', 'truefalse', 'cloze'",
            "'recall', 'takeaway', 'truefalse' or 'cloze'",
        ),
        (
            "quizzes.0.items.0.payload.key_terms",
            7,
            "quizzes.0.items.0.payload.key_terms：必须是列表",
            "valid list",
        ),
    ],
)
def test_a_schema_error_in_an_uploaded_file_is_explained_in_the_readers_language(
    make_client: MakeClient, where: str, value: Any, zh: str, en: str
) -> None:
    """The page names the place in the file and says what is wrong in Chinese, with no
    English from pydantic; the API keeps pydantic's English ``detail`` and the field."""
    client = make_client(language="zh")
    with_history(client)
    mine = client.get("/export/data.json").content
    broken = _broken(mine, where, value)
    before = client.get("/export/data.json").json()["cards"]
    response = upload(client, broken, replace=True)
    assert response.status_code == 422
    error = soup(response).select_one("#import-error")
    assert error is not None
    shown = error.get_text(" ", strip=True)
    assert zh in shown and "Input should" not in shown and "Field required" not in shown
    api = client.post("/api/import/data?replace=true", json=json.loads(broken))
    assert api.status_code == 422 and api.json()["field"] == where
    assert api.json()["detail"].startswith(f"{where}: ") and en in api.json()["detail"]
    assert client.get("/export/data.json").json()["cards"] == before


def test_a_record_check_in_an_uploaded_file_is_explained_in_the_readers_language(
    make_client: MakeClient,
) -> None:
    """What a schema cannot say (a card state fsrs cannot load) reads in Chinese on the
    page, in English in the API."""
    client = make_client(language="zh")
    with_history(client)
    broken = _broken(client.get("/export/data.json").content, "cards.0.fsrs.stability", ...)
    error = soup(upload(client, broken, replace=True)).select_one("#import-error")
    assert error is not None
    assert "cards.0.fsrs 不是有效的 FSRS 卡片状态（KeyError('stability')）" in error.get_text()
    api = client.post("/api/import/data?replace=true", json=json.loads(broken)).json()
    assert api == {
        "detail": "cards.0.fsrs is not an FSRS card state (KeyError('stability'))",
        "field": "cards.0.fsrs",
    }


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        ([0.5] * 3, "FSRS-6 有 21 个参数，不是 3 个", "FSRS-6 has 21 parameters, not 3"),
        (
            [1e9] * 21,
            "参数 w0 = 1000000000.0 超出范围 [0.001, 100.0]",
            "parameter w0 = 1000000000.0 is outside [0.001, 100.0]",
        ),
    ],
)
def test_refused_fsrs_parameters_in_an_uploaded_file_are_explained_in_the_readers_language(
    make_client: MakeClient, value: list[float], zh: str, en: str
) -> None:
    """Parameters the schema lets through but fsrs cannot use: the page says which and
    why in Chinese, the API in English; nothing changes."""
    client = make_client(language="zh")
    with_history(client)
    mine = client.get("/export/data.json").content
    before = {k: v for k, v in json.loads(mine).items() if k in ("user", "cards")}
    broken = _broken(mine, "user.fsrs_parameters", value)
    error = soup(upload(client, broken, replace=True)).select_one("#import-error")
    assert error is not None
    assert error.get_text(" ", strip=True) == f"user.fsrs_parameters：{zh}"
    api = client.post("/api/import/data?replace=true", json=json.loads(broken)).json()
    assert api == {"detail": f"user.fsrs_parameters: {en}", "field": "user.fsrs_parameters"}
    after = client.get("/export/data.json").json()
    assert {k: after[k] for k in before} == before
