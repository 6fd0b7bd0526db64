"""Mock interview pages: start one (by company or from the plan), answer, compare and
grade each question, the report, a question's attempt history; refusals name their
field."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from tests.web.conftest import MakeClient, csrf, soup
from tests.web.test_accounts import error_text, sign_up
from tests.web.test_claims_pages import CLAIMS
from tests.web.test_plan_pages import in_days

QLORA = "llm-sft-624f78fb"  # asked by 阿里国际; key terms 量化后的 LORA, 4-bit 量化, 4-bit, 4 倍
ALI_INTL = {"llm-sft-bc57451c", "llm-sft-0cd816d5", QLORA}  # 阿里国际 asked these at 一面
SHARED_TOPIC = {"llm-sft-fdc9313d", "llm-sft-2e76f170", "llm-sft-573f2e6f", "llm-sft-7961b07f"}
SEED = "1"  # a draw of three: QLORA, another asked there, one of a shared topic


def start(client: TestClient, **fields: str) -> str:
    """Post the new-mock form; the mock interview's address."""
    token = csrf(soup(client.get("/mock")))
    form = {"csrf_token": token, "company": "阿里国际", "stage": "一面", "count": "3"} | fields
    response = client.post("/mock", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def test_a_whole_mock_interview_from_start_to_report(client: TestClient) -> None:
    new = soup(client.get("/mock"))
    assert "阿里国际" in [o["value"] for o in new.select("#mock-companies option")]
    assert new.select_one("header nav a[aria-current=page]").get_text() == "Mock interview"  # type: ignore[union-attr]
    url = start(client, count="3", minutes="6", seed=SEED)
    asked: list[str] = []
    total = 0
    for n in range(1, 4):
        page = soup(client.get(url))
        section = page.select_one("section#mock")
        assert section is not None and section["data-step"] == "answer"
        assert page.select_one("#progress").get_text() == f"Question {n} of 3"  # type: ignore[union-attr]
        clocks = page.select_one("#mock-clocks")
        assert (
            clocks is not None and clocks["data-share"] == "120" and clocks["data-limit"] == "360"
        )
        why = page.select_one(".why").get_text()  # type: ignore[union-attr]
        form = page.select_one("form#answer-form")
        assert form is not None and form.select_one("textarea[name=text]") is not None
        position = int(str(section["data-position"]))
        response = client.post(
            str(form["action"]),
            data={"csrf_token": csrf(page), "text": "量化后的 LORA 用 4-bit"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"{url}/items/{position}"
        # Going back to the mock shows the comparison until it is graded.
        assert (
            client.get(url, follow_redirects=False)
            .headers["location"]
            .endswith(f"/items/{position}")
        )
        compare = soup(client.get(response.headers["location"]))
        assert compare.select_one("#your-answer .given").get_text() == "量化后的 LORA 用 4-bit"  # type: ignore[union-attr]
        assert compare.select_one("#reference .answer") is not None
        points = compare.select("#key-points li.point")
        history_link = compare.select_one("a[href$='/attempts']")
        assert history_link is not None
        question_id = str(history_link["href"]).split("/")[2]
        asked.append(question_id)
        tier = "at this round" if question_id in ALI_INTL else "a topic this company asks about"
        assert tier in why
        total += len(points)
        if question_id == QLORA:
            found = [li["data-found"] for li in points]
            assert found == ["yes", "no", "yes", "no"]
            ticked = [str(b["value"]) for b in compare.select("input[name=covered][checked]")]
            assert ticked == ["0", "2"]
        assert [b["value"] for b in compare.select("#ratings button[name=rating]")] == [
            "1",
            "2",
            "3",
            "4",
        ]
        assert compare.select_one("#related-demos") is not None  # LoRA questions have demos
        grade = compare.select_one("form#grade-form")
        assert grade is not None
        covered = [str(b["value"]) for b in compare.select("input[name=covered]")]
        response = client.post(
            str(grade["action"]),
            data={"csrf_token": csrf(compare), "rating": "3", "covered": covered},
            follow_redirects=False,
        )
        assert response.status_code == 303 and response.headers["location"] == url
    assert QLORA in asked and len(set(asked)) == 3
    assert set(asked) <= ALI_INTL | SHARED_TOPIC
    report = client.get(url, follow_redirects=True)
    page = soup(report)
    assert report.url.path == f"{url}/report"
    assert page.select_one("h1").get_text() == "Mock interview report"  # type: ignore[union-attr]
    rows = page.select("#mock-items tbody tr")
    assert [r["data-question"] for r in rows] == asked
    assert all(r.select_one(".grade").get_text() == "Good" for r in rows)  # type: ignore[union-attr]
    summed = page.select_one("#total-points").get_text()  # type: ignore[union-attr]
    assert summed == f"{total}/{total}"  # every point ticked
    assert page.select_one("#nothing-to-review") is not None
    assert len(page.select("#weakest li")) == 3
    # The attempt history of a question, linked from its page.
    question = soup(client.get(f"/questions/{QLORA}"))
    link = question.select_one(f"a[href='/questions/{QLORA}/attempts']")
    assert link is not None
    history = soup(client.get(f"/questions/{QLORA}/attempts"))
    entries = history.select("#attempts li.attempt")
    assert len(entries) == 1
    assert entries[0].select_one(".given").get_text() == "量化后的 LORA 用 4-bit"  # type: ignore[union-attr]
    assert entries[0].select_one(".covered").get_text() == "4/4 key points"  # type: ignore[union-attr]
    assert entries[0].select_one(".grade").get_text() == "Good"  # type: ignore[union-attr]
    # The new-mock page lists it as finished.
    past = soup(client.get("/mock")).select_one(".past-mocks li a")
    assert past is not None and past["href"] == f"{url}/report"


def test_a_mock_for_an_interview_of_the_plan(client: TestClient) -> None:
    token = csrf(soup(client.get("/interviews")))
    added = {"csrf_token": token, "company": "阿里国际", "role": "", "stage": "一面"}
    client.post("/interviews", data=added | {"date": in_days(5)}, follow_redirects=False)
    link = soup(client.get("/interviews")).select_one("li.interview a.mock-link")
    assert link is not None
    page = soup(client.get(str(link["href"])))
    choice = page.select_one("input[name=interview_id][checked]")
    assert choice is not None and choice["value"] != ""
    url = start(client, company="", stage="", interview_id=str(choice["value"]), count="2")
    first = soup(client.get(url))
    assert "阿里国际 · 一面" in first.select_one(".queue").get_text()  # type: ignore[union-attr]
    assert len(soup(client.get(url)).select("#progress")) == 1


def test_refusals_name_the_field(client: TestClient) -> None:
    token = csrf(soup(client.get("/mock")))
    base = {"csrf_token": token, "company": "", "stage": "", "count": "5", "minutes": "30"}
    for fields, field in (
        ({"count": "many"}, "count"),
        ({"count": "50"}, "count"),
        ({"minutes": "0"}, "minutes"),
        ({"minutes": "-3"}, "minutes"),
        ({"company": "Nowhere Inc"}, "Nowhere Inc"),
    ):
        response = client.post("/mock", data=base | fields)
        assert response.status_code == 422, fields
        assert field in error_text(response)
    url = start(client, count="1")
    page = soup(client.get(url))
    answer = str(page.select_one("form#answer-form")["action"])  # type: ignore[index]
    grade = answer.replace("/answer", "/grade")
    # Graded before it is answered: a conflict naming the question.
    early = client.post(grade, data={"csrf_token": token, "rating": "3"})
    assert early.status_code == 409 and "not answered yet" in error_text(early)
    client.post(answer, data={"csrf_token": token, "text": "x"})
    for data, field in (
        ({"rating": "7"}, "rating 7"),
        ({}, "rating"),
        ({"rating": "3", "covered": "x"}, "covered"),
        ({"rating": "3", "covered": "99"}, "covered 99"),
    ):
        response = client.post(grade, data={"csrf_token": token} | data)
        assert response.status_code == 422, data
        assert field in error_text(response)
    assert client.get(url.replace("/mock/", "/mock/9") + "0").status_code == 404
    assert client.get(f"{url}/items/5").status_code == 404
    assert client.get(f"{url}/report").status_code == 200


def test_a_mock_interview_is_its_owners_alone(make_client: MakeClient) -> None:
    alice = make_client(accounts=True)
    sign_up(alice, "alice")
    url = start(alice, count="1")
    bob = make_client(accounts=True)
    sign_up(bob, "bob")
    assert bob.get(url).status_code == 404
    assert bob.get(f"{url}/report").status_code == 404
    assert alice.get(url).status_code == 200


def test_the_pages_in_chinese(make_client: MakeClient) -> None:
    client = make_client(language="zh")
    page = soup(client.get("/mock"))
    assert page.select_one("h1").get_text() == "模拟面试"  # type: ignore[union-attr]
    url = start(client, count="1")
    question = soup(client.get(url))
    assert question.select_one("#progress").get_text() == "第 1 题，共 1 题"  # type: ignore[union-attr]
    response = client.post("/mock", data={"csrf_token": csrf(page), "count": "0"})
    assert "count 0 须在 1 到 20 之间" in error_text(response)


def test_the_comparison_shows_the_answers_claims(
    make_client: MakeClient, content_dir: Path
) -> None:
    (content_dir / "claims").mkdir()
    shutil.copy(CLAIMS, content_dir / "claims" / CLAIMS.name)
    client = make_client()
    url = start(client, count="3", seed=SEED)  # QLORA comes second
    for position in range(2):
        page = soup(client.get(url))
        form = page.select_one("form#answer-form")
        assert form is not None
        client.post(str(form["action"]), data={"csrf_token": csrf(page), "text": "4-bit"})
        compare = soup(client.get(f"{url}/items/{position}"))
        if position == 0:
            grade = compare.select_one("form#grade-form")
            assert grade is not None
            client.post(str(grade["action"]), data={"csrf_token": csrf(compare), "rating": "3"})
    section = compare.select_one("section#mock")
    assert section is not None and section["data-question"] == QLORA
    # The reference answer marks the claim's quote, with its badge and evidence popover.
    assert compare.select('#reference .answer mark[data-claim="nf4-four-times-smaller"]')
    assert compare.select_one("#claim-nf4-four-times-smaller[popover]") is not None
    listed = [li["data-claim"] for li in compare.select("#claims-here li.claim-item")]
    assert "nf4-four-times-smaller" in listed
    demos = [a["href"] for a in compare.select("#related-demos a")]
    assert "/demos/qlora_memory" in demos
