"""Export costs on the web: every export needs sign-in with accounts, and the Anki
download is built once per bank version and streamed from a cached file (no leftover
temporary files)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient

from app.config import Settings
from app.content.importer import import_paths
from app.export import anki, anki_cache
from tests.web.conftest import MakeClient
from tests.web.test_accounts import sign_up

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def test_every_export_needs_sign_in_with_accounts(make_client: MakeClient) -> None:
    client = make_client(accounts=True)
    response = client.get("/export/anki.apkg", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert client.get("/api/export/anki.apkg").status_code == 401
    assert client.get("/api/export/data").status_code == 401
    sign_up(client, "alice")
    response = client.get("/export/anki.apkg")
    assert response.status_code == 200 and response.headers["content-type"] == anki.MEDIA_TYPE


def test_the_download_is_built_once_per_bank_version_and_streamed(
    client: TestClient, settings: Settings, content_dir: Path
) -> None:
    folder = anki_cache.cache_dir(settings.data_dir)
    first = client.get("/export/anki.apkg")
    assert first.status_code == 200
    assert first.headers["content-length"] == str(len(first.content))
    (cached,) = folder.iterdir()  # one file, no temporary collection left behind
    built = cached.stat().st_mtime_ns

    again = client.get("/export/anki.apkg")
    assert again.content == first.content  # the same file, not rebuilt
    assert [p.stat().st_mtime_ns for p in folder.iterdir()] == [built]

    filtered = client.get("/export/anki.apkg?company=美团")
    assert filtered.status_code == 200 and len(list(folder.iterdir())) == 2

    # A changed bank is a new version: the next download is built again.
    seed = content_dir / "llm-sft.md"
    seed.write_text(seed.read_text(encoding="utf-8") + "\n新增一句。\n", encoding="utf-8")
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with factory() as session, session.begin():
        assert import_paths(session, paths=[content_dir], content_dir=content_dir, now=T0).ok
    changed = client.get("/export/anki.apkg")
    assert changed.status_code == 200 and changed.content != first.content
    assert len(list(folder.glob("deck-*.apkg"))) == 3
    assert not list(folder.glob("*.part"))
