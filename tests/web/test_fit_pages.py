"""The settings page's "Fit to my reviews" section: start a fit, watch it wait and run,
read the scores and the workload, apply the parameters, go back to the defaults; in
both languages, and without torch in the web process (a worker runs the job: here the
test calls the worker's ``execute`` itself)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.bank import import_bank
from app.config import Settings
from app.db import make_sessionmaker
from app.models import FsrsFit, Question, User
from app.users.service import local_user
from app.worker.execute import execute
from tests.conftest import REPO_ROOT
from tests.study.test_fit_job import bank
from tests.study.test_fit_logs import generate_log, insert_log
from tests.web.conftest import MakeClient, csrf, soup


def with_log(engine: Engine, content_dir: object, *, cards: int, days: int) -> None:
    """A bank of ``cards`` questions and the local user's generated log over them."""
    (content_dir / "bank.md").write_text(bank(cards), encoding="utf-8")  # type: ignore[operator]
    with make_sessionmaker(engine)() as session:
        with session.begin():
            report = import_bank(
                session,
                paths=[content_dir],  # type: ignore[list-item]
                content_dir=content_dir,  # type: ignore[arg-type]
                now=dt.datetime.now(dt.UTC),
            )
        assert report.ok
        user = local_user(session=session)
        ids = list(session.scalars(select(Question.id).order_by(Question.title)))
        insert_log(session, user, ids, generate_log(cards=cards, days=days))


def section(client: TestClient) -> BeautifulSoup:
    page = soup(client.get("/settings"))
    found = page.select_one("section#fit")
    assert found is not None, "the settings page has no fit section"
    return page


def post(client: TestClient, page: BeautifulSoup, form_id: str) -> None:
    form = page.select_one(f"#{form_id}")
    assert form is not None, form_id
    response = client.post(
        str(form["action"]), data={"csrf_token": csrf(page)}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/settings#fit"


def work_the_queue(engine: Engine) -> int:
    """What a worker does with the latest fit's run."""
    with make_sessionmaker(engine)() as session:
        run_id = session.scalars(select(FsrsFit.run_id).order_by(FsrsFit.id.desc())).first()
    assert run_id is not None
    assert execute(run_id, engine=engine) == "succeeded"
    return run_id


def text(page: Tag, selector: str) -> str:
    node = page.select_one(selector)
    assert node is not None, selector
    return " ".join(node.get_text().split())


def test_with_few_reviews_the_section_simulates_the_workload(
    make_client: MakeClient, engine: Engine, content_dir: object
) -> None:
    client = make_client(seed=False)
    with_log(engine, content_dir, cards=12, days=20)
    page = section(client)
    assert "FSRS's defaults" in text(page, "#fit-in-use")
    assert page.select_one("#fit-too-few") is not None
    assert text(page, "#fit-start button") == "Simulate my workload"
    post(client, page, "fit-start")

    waiting = section(client)
    assert waiting.select_one("section#fit")["data-running"] == "true"  # type: ignore[index]
    assert "Waiting for a worker" in text(waiting, ".fit-progress")
    assert waiting.select_one("#fit-start") is None  # one fit at a time
    fragment = soup(client.get("/settings/fit"))
    assert fragment.select_one("section#fit .fit-progress") is not None
    assert fragment.select_one("html") is None  # the section alone, for the poll
    # Opened as a page (a browser navigating), it is the settings page at the section.
    opened = client.get(
        "/settings/fit", headers={"Sec-Fetch-Dest": "document"}, follow_redirects=False
    )
    assert opened.status_code == 303 and opened.headers["location"] == "/settings#fit"

    run_id = work_the_queue(engine)
    done = section(client)
    assert done.select_one("section#fit")["data-running"] == "false"  # type: ignore[index]
    rows = done.select("table.fit-scores tbody tr")
    assert [r["class"] for r in rows] == [["current"]]  # nothing fitted: no second row
    assert done.select_one("#fit-apply") is None and done.select_one("#fit-optimal") is None
    workload = done.select("table.fit-workload tbody tr")
    assert len(workload) == 6
    yours = [r for r in workload if "current" in (r.get("class") or [])]
    assert len(yours) == 1 and text(yours[0], "th").startswith("90%")
    assert "yours" in text(yours[0], "th .marks")
    best = [r for r in workload if "best" in (r.get("class") or [])]
    assert len(best) == 1 and "least work" in text(best[0], "th .marks")
    best_retention = re.match(r"\d+%", text(best[0], "th"))
    assert best_retention is not None and best_retention[0] in text(done, "#fit-best")
    assert len(done.select("table.fit-workload thead th")) == 4  # durations known: minutes
    # The run holds the user's review log: no permalink, no run page.
    assert client.get(f"/api/runs/{run_id}").status_code == 404
    assert client.get(f"/runs/{run_id}").status_code == 404
    assert "fsrs_fit" not in {d["name"] for d in client.get("/api/demos").json()}


def test_the_section_reads_in_chinese(make_client: MakeClient) -> None:
    page = section(make_client(language="zh"))
    assert text(page, "#fit-title") == "根据我的复习拟合"
    assert text(page, "#fit-start button") == "模拟我的复习量"


@pytest.mark.slow
def test_a_fit_is_applied_from_the_page_and_undone(
    make_client: MakeClient, engine: Engine, content_dir: object
) -> None:
    client = make_client(seed=False)
    with_log(engine, content_dir, cards=110, days=60)
    page = section(client)
    assert page.select_one("#fit-too-few") is None
    assert text(page, "#fit-start button") == "Fit to my reviews"
    post(client, page, "fit-start")
    work_the_queue(engine)

    done = section(client)
    scores = {
        str(r.get_attribute_list("class")[0]): float(text(r, "td"))
        for r in done.select("table.fit-scores tbody tr")
    }
    assert scores["fitted"] < scores["current"]
    assert done.select_one("#fit-optimal") is None
    assert len(text(done, ".fit-parameters").split(",")) == 21
    post(client, done, "fit-apply")

    applied = section(client)
    assert applied.select_one("#fit-applied") is not None
    assert "your own" in text(applied, "#fit-in-use")
    with make_sessionmaker(engine)() as session:
        user = session.scalars(select(User)).one()
        assert user.fsrs_parameters is not None and len(user.fsrs_parameters) == 21
    post(client, applied, "fit-reset")

    reset = section(client)
    assert "FSRS's defaults" in text(reset, "#fit-in-use")
    with Session(engine) as session:
        assert session.scalars(select(User.fsrs_parameters)).one() is None


def test_the_fit_pages_never_import_torch(settings: Settings) -> None:
    code = f"""
import sys
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from app.config import Settings
from app.db import make_engine, migrate
from app.main import create_app
settings = Settings(data_dir={str(settings.data_dir)!r}, database_url="")
migrate(make_engine(settings))
with TestClient(
    create_app(settings), base_url="http://127.0.0.1", client=("127.0.0.1", 50000)
) as client:
    page = BeautifulSoup(client.get("/settings").text, "html.parser")
    token = page.select_one("input[name=csrf_token]")["value"]
    started = client.post("/settings/fit", data={{"csrf_token": token}}, follow_redirects=False)
    assert started.status_code == 303, started.text
    assert 'data-running="true"' in client.get("/settings/fit").text
assert "torch" not in sys.modules, "the web process imported torch"
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
