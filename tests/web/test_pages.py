"""The web process: pages render from the database, and never import torch."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.content.importer import import_paths
from app.db import make_sessionmaker
from app.main import create_app
from tests.conftest import REPO_ROOT, SEED


def test_home_lists_the_imported_chapters(
    settings: Settings, engine: Engine, content_dir: Path
) -> None:
    (content_dir / "llm-sft.md").write_bytes(SEED.read_bytes())
    with make_sessionmaker(engine)() as session, session.begin():
        import_paths(
            session, paths=[content_dir], content_dir=content_dir, now=dt.datetime.now(dt.UTC)
        )
    with TestClient(create_app(settings)) as client:
        page = BeautifulSoup(client.get("/").text, "html.parser")
        [chapter] = page.select("li.chapter")
        assert chapter["data-slug"] == "llm-sft"
        assert chapter.select_one(".count").get_text() == "10 questions"  # type: ignore[union-attr]
        assert client.get("/api/chapters").json()[0]["questions"] == 10


def test_empty_bank_says_how_to_import(settings: Settings, engine: Engine) -> None:
    with TestClient(create_app(settings)) as client:
        page = BeautifulSoup(client.get("/").text, "html.parser")
        assert "interview-lab import" in page.select_one(".empty").get_text()  # type: ignore[union-attr]


def test_serving_a_page_does_not_import_torch(settings: Settings, engine: Engine) -> None:
    code = f"""
import sys
from fastapi.testclient import TestClient
from app.config import Settings
from app.main import create_app
settings = Settings(data_dir={str(settings.data_dir)!r}, database_url="")
with TestClient(create_app(settings)) as client:
    assert client.get("/").status_code == 200
assert "torch" not in sys.modules, "the web process imported torch"
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
