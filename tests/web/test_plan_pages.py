"""Interviews through the page (forms with CSRF) and the JSON API; the home page's
countdown and today's plan, read from parsed HTML as the user reviews; the notice on a
card whose answer a re-import changed, with its relearn and keep actions."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.content.importer import import_paths
from app.db import make_sessionmaker
from app.models import Question
from tests.web.conftest import MakeClient, csrf, number, soup


def in_days(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


def add_form(client: TestClient, **fields: str) -> Any:
    page = soup(client.get("/interviews"))
    data = {"company": "", "role": "", "stage": "", "date": ""} | fields
    return client.post(
        "/interviews", data={"csrf_token": csrf(page)} | data, follow_redirects=False
    )


def test_the_interviews_page_adds_lists_and_deletes(client: TestClient) -> None:
    page = soup(client.get("/interviews"))
    assert page.select_one("#no-interviews") is not None
    companies = {str(o["value"]) for o in page.select("datalist#companies option")}
    assert "阿里" in companies  # the bank's spellings are offered
    response = add_form(client, company="阿里", role="算法工程师", stage="一面", date=in_days(7))
    assert response.status_code == 303 and response.headers["location"] == "/interviews"
    page = soup(client.get("/interviews"))
    [item] = page.select("li.interview")
    assert "阿里" in item.select_one(".what").get_text()  # type: ignore[union-attr]
    assert item.select_one("time")["datetime"] == in_days(7)  # type: ignore[index]
    assert "in 7 days" in item.select_one(".when").get_text()  # type: ignore[union-attr]
    assert page.select_one("#countdown") is not None  # the plan shows here too
    form = item.select_one("form")
    assert form is not None
    deleted = client.post(
        str(form["action"]), data={"csrf_token": csrf(page)}, follow_redirects=False
    )
    assert deleted.status_code == 303
    assert soup(client.get("/interviews")).select_one("li.interview") is None
    # A form post without the token is refused.
    assert (
        client.post("/interviews", data={"company": "阿里", "date": in_days(1)}).status_code == 403
    )


def test_form_errors_name_the_field_and_keep_what_was_typed(client: TestClient) -> None:
    past = add_form(client, company="阿里", date=in_days(-1))
    assert past.status_code == 422
    page = soup(past)
    assert "is in the past" in page.select_one(".error-message").get_text()  # type: ignore[union-attr]
    assert page.select_one("input[name=company]")["value"] == "阿里"  # type: ignore[index]
    empty = add_form(client, company="  ", date=in_days(1))
    assert empty.status_code == 422
    assert "company" in soup(empty).select_one(".error-message").get_text()  # type: ignore[union-attr]
    garbled = add_form(client, company="阿里", date="next week")
    assert garbled.status_code == 422
    assert "next week" in soup(garbled).select_one(".error-message").get_text()  # type: ignore[union-attr]
    assert client.get("/api/interviews").json() == []


def test_the_api_adds_lists_and_deletes_with_422s_naming_the_field(client: TestClient) -> None:
    added = client.post("/api/interviews", json={"company": " 阿里", "date": in_days(3)})
    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["company"], body["stage"], body["days_to"]) == ("阿里", None, 3)
    assert [i["id"] for i in client.get("/api/interviews").json()] == [body["id"]]
    for bad, field in (
        ({"company": "", "date": in_days(3)}, "company"),
        ({"company": "阿里", "date": in_days(-2)}, "date"),
    ):
        response = client.post("/api/interviews", json=bad)
        assert response.status_code == 422 and response.json()["field"] == field
    malformed = client.post("/api/interviews", json={"company": "阿里", "date": "soon"})
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "date"
    assert client.delete(f"/api/interviews/{body['id']}").status_code == 204
    assert client.delete(f"/api/interviews/{body['id']}").status_code == 404
    assert client.get("/api/interviews").json() == []
    assert client.get("/api/plan").json() is None


def learn(client: TestClient, rating: int = 4) -> dict[str, object]:
    """Rate the next card; its question."""
    card = client.get("/api/review/next").json()["card"]
    rated = client.post(
        "/api/review/rate",
        json={"question_id": card["question"]["id"], "rating": rating, "version": card["version"]},
    )
    assert rated.status_code == 200, rated.text
    question: dict[str, object] = card["question"]
    return question


def test_home_shows_the_countdown_and_todays_plan_as_the_user_reviews(client: TestClient) -> None:
    page = soup(client.get("/"))
    assert page.select_one("#plan") is None
    assert page.select_one("#plan-none a")["href"] == "/interviews"  # type: ignore[index]

    client.post("/api/interviews", json={"company": "阿里", "stage": "一面", "date": in_days(3)})
    page = soup(client.get("/"))
    countdown = page.select_one("#countdown")
    assert countdown is not None and countdown["data-days"] == "3"
    text = " ".join(countdown.get_text().split())
    assert text == f"3 days to 阿里 一面, {in_days(3)}"
    # 阿里 asked 3 questions at 一面, all new: 3 to see over 3 days, one today.
    pace = page.select_one("#plan-pace")
    assert pace is not None and (pace["data-need"], pace["data-new-need"]) == ("1", "1")
    assert [number(page, f"#plan-{k}") for k in ("needed", "done", "left")] == [1, 0, 1]
    assert page.select_one("#plan-warning") is None
    link = urlsplit(str(page.select_one("#plan-review")["href"]))  # type: ignore[index]
    assert link.path == "/review"
    assert parse_qs(link.query) == {"company": ["阿里"], "stage": ["一面"]}
    assert "/interviews" in {a["href"] for a in page.select("#plan a")}
    needed = page.select_one("#plan-needed + span").get_text()  # type: ignore[union-attr]
    assert needed == "card planned today"  # one: no "1 cards"
    # The interviews page holds the same plan, without a link to itself.
    interviews = soup(client.get("/interviews"))
    assert interviews.select_one("#plan") is not None
    assert "/interviews" not in {a["href"] for a in interviews.select("#plan a")}

    # The queue puts the interview's questions first: the first card 阿里 asked at 一面.
    question = learn(client)
    asked = question["asked"]
    assert isinstance(asked, list)
    assert {"company": "阿里", "stage": "一面"}.items() <= asked[0].items()
    page = soup(client.get("/"))
    assert [number(page, f"#plan-{k}") for k in ("needed", "done", "left")] == [1, 1, 0]


def test_home_warns_when_the_plan_needs_more_new_cards_than_the_limit(client: TestClient) -> None:
    client.put("/api/settings", json={"new_per_day": 1})
    client.post("/api/interviews", json={"company": "阿里", "stage": "一面", "date": in_days(1)})
    page = soup(client.get("/"))
    assert page.select_one("#countdown")["data-days"] == "1"  # type: ignore[index]
    warning = page.select_one("#plan-warning")
    assert warning is not None and "limit of 1" in warning.get_text()
    assert warning.select_one("a[href='/settings']") is not None
    assert client.get("/api/plan").json()["new_need"] == 3
    # The interview today: "today", and the plan asks for what the limit lets in.
    client.put("/api/settings", json={"new_per_day": 20})
    client.post("/api/interviews", json={"company": "阿里", "date": in_days(0)})
    page = soup(client.get("/"))
    assert "Interview today: 阿里" in page.select_one("#countdown").get_text()  # type: ignore[union-attr]
    assert page.select_one("#plan-warning") is None


def test_the_company_is_shown_as_text(client: TestClient) -> None:
    client.post("/api/interviews", json={"company": "<b>Acme</b>", "date": in_days(2)})
    page = soup(client.get("/"))
    countdown = page.select_one("#countdown")
    assert countdown is not None and countdown.select_one("b") is None
    assert "<b>Acme</b>" in countdown.get_text()
    assert page.select_one("#plan-empty") is not None  # nothing in the bank from Acme
    assert page.select_one("#plan-review") is None


def replace_answer(text: str, title: str, answer: str) -> str:
    """The bank with the answer of ``title`` (below its metadata line) replaced."""
    pattern = re.compile(rf"(### Q\. {re.escape(title)}\n> [^\n]*\n)(.*?)(?=\n### )", re.S)
    replaced, n = pattern.subn(lambda m: m.group(1) + "\n" + answer + "\n", text, count=1)
    assert n == 1, title
    return replaced


def reimport(engine: Engine, content_dir: Path, text: str) -> None:
    (content_dir / "llm-sft.md").write_text(text, encoding="utf-8")
    with make_sessionmaker(engine)() as session, session.begin():
        report = import_paths(
            session, paths=[content_dir], content_dir=content_dir, now=dt.datetime.now(dt.UTC)
        )
    assert report.ok


def question_id(engine: Engine, title: str) -> str:
    with make_sessionmaker(engine)() as session:
        return session.scalars(select(Question.id).where(Question.title == title)).one()


def test_a_changed_answer_offers_to_relearn_or_keep(
    make_client: MakeClient, engine: Engine, content_dir: Path
) -> None:
    client = make_client()
    first = "Prompt Tuning、Prefix Tuning、LoRA 和 Adapter，结合实际场景谈优劣"
    titles = [first, "LORA的原理", "啥是矩阵的秩？秩和LORA有啥关系？"]
    assert [learn(client)["title"] for _ in titles] == titles  # bank order
    text = (content_dir / "llm-sft.md").read_text(encoding="utf-8")
    text = replace_answer(text, first, "只比较 Adapter：它在每层插入瓶颈小网络，推理更慢。")
    text = replace_answer(text, "LORA的原理", "LoRA 用两个小矩阵近似权重更新，只训练它们。")
    text = text.replace("线性无关行向量或列向量的最大个数", "线性无关行向量或列向量的最多个数")
    reimport(engine, content_dir, text)
    changed, relearned, typo = (question_id(engine, t) for t in titles)

    # The review card tells; so does the question page. A typo fix is not a change.
    page = soup(client.get(f"/review?show={relearned}"))
    assert page.select_one("#card")["data-question"] == relearned  # type: ignore[index]
    assert page.select_one("#card #answer-changed") is not None
    assert soup(client.get(f"/questions/{typo}")).select_one("#answer-changed") is None
    notice = soup(client.get(f"/questions/{changed}")).select_one("#answer-changed")
    assert notice is not None

    # Relearn from the review card: shown at once as a learning card, the notice gone.
    form = page.select_one("#relearn")
    assert form is not None
    fields = {str(i["name"]): str(i["value"]) for i in form.select("input")}
    done = client.post(str(form["action"]), data=fields, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/review"
    page = soup(client.get("/review"))
    assert page.select_one("#card")["data-question"] == relearned  # type: ignore[index]
    assert page.select_one(".state").get_text() == "Learning"  # type: ignore[union-attr]
    assert page.select_one("#answer-changed") is None

    # Keep the schedule from the question page: back to it, the notice gone.
    page = soup(client.get(f"/questions/{changed}"))
    form = page.select_one("#keep")
    assert form is not None
    fields = {str(i["name"]): str(i["value"]) for i in form.select("input")}
    assert fields["next"] == f"/questions/{changed}"
    done = client.post(str(form["action"]), data=fields, follow_redirects=False)
    assert done.headers["location"] == f"/questions/{changed}"
    assert soup(client.get(f"/questions/{changed}")).select_one("#answer-changed") is None

    # The JSON side: a second action does nothing; no card is a 404.
    assert client.post(f"/api/cards/{changed}/keep").json() == {
        "question_id": changed,
        "changed": False,
    }
    assert client.post(f"/api/cards/{relearned}/relearn").json()["changed"] is False
    assert client.post("/api/cards/nope/relearn").status_code == 404
    # The form actions need the CSRF token; a redirect elsewhere is refused.
    assert client.post(f"/cards/{changed}/keep", data={"next": "/"}).status_code == 403
    token = csrf(soup(client.get("/review")))
    away = client.post(
        f"/cards/{changed}/keep",
        data={"csrf_token": token, "next": "//evil.example"},
        follow_redirects=False,
    )
    assert away.headers["location"] == "/review"
