"""Reading pages: home, browse with filters and search, the question page, errors.
Pages are checked through parsed HTML."""

from __future__ import annotations

import subprocess
import sys

from fastapi.testclient import TestClient

from app.config import Settings
from tests.conftest import REPO_ROOT
from tests.web.conftest import MakeClient, number, soup


def test_home_shows_today_and_the_chapters(client: TestClient) -> None:
    page = soup(client.get("/"))
    assert number(page, "#due-today") == 0
    assert number(page, "#new-left") == 10  # 20 a day by default, 10 questions in the bank
    assert number(page, "#streak") == 0
    [chapter] = page.select("li.chapter")
    assert chapter["data-slug"] == "llm-sft"
    assert chapter.select_one(".count").get_text() == "10 questions"  # type: ignore[union-attr]
    links = {a["href"] for a in page.select("main a")}
    assert {"/review", "/questions"} <= links


def test_empty_bank_says_how_to_import(make_client: MakeClient) -> None:
    page = soup(make_client(seed=False).get("/"))
    assert "interview-lab import" in page.select_one(".empty").get_text()  # type: ignore[union-attr]


def titles(client: TestClient, url: str) -> list[str]:
    page = soup(client.get(url))
    return [a.get_text(strip=True) for a in page.select("li.question-item a.title")]


def test_browse_lists_everything_with_metadata(client: TestClient) -> None:
    page = soup(client.get("/questions"))
    items = page.select("li.question-item")
    assert len(items) == 10
    first = items[0]
    assert first.select_one(".company").get_text() == "美团"  # type: ignore[union-attr]
    assert first.select_one(".stage").get_text() == "一面"  # type: ignore[union-attr]
    assert "LORA" in [t.get_text() for t in first.select(".chip.tag")]  # the usual spelling


def test_filters_combine_and_show_as_removable_chips(client: TestClient) -> None:
    url = "/questions?company=阿里国际&tag=qlora"
    assert titles(client, url) == ["QLORA相对于LORA改进是什么？"]
    page = soup(client.get(url))
    chips = {(c["data-facet"], c["data-value"]) for c in page.select("li.chip.filter")}
    assert chips == {("company", "阿里国际"), ("tag", "qlora")}
    remove_tag = page.select_one("li.chip.filter[data-facet=tag] a.remove")
    assert remove_tag is not None
    assert len(titles(client, str(remove_tag["href"]))) == 3  # all of 阿里国际's questions
    # Values within a facet are alternatives.
    assert len(titles(client, "/questions?company=阿里国际&company=快手")) == 4
    assert len(titles(client, "/questions?stage=一面&role=Agent智能体")) == 1


def test_search_finds_chinese_substrings(client: TestClient) -> None:
    found = titles(client, "/questions?q=低秩")
    assert "为什么在参数高效微调中使用低秩矩阵分解？" in found
    assert "LORA的原理" in found  # "低秩" appears inside its answer's sentences
    assert titles(client, "/questions?q=lora的原理") == ["LORA的原理"]  # case-insensitive
    assert titles(client, "/questions?q=不存在的词") == []


def test_question_page_renders_math_and_takeaway(client: TestClient) -> None:
    [item] = client.get("/api/questions?q=啥是矩阵的秩").json()["items"]
    page = soup(client.get(f"/questions/{item['id']}"))
    answer = page.select_one("section.answer")
    assert answer is not None
    assert answer.select("math"), "math should render as MathML"
    assert "\\mathbb" not in answer.get_text()
    # The takeaway shows once: highlighted where the answer has it, never repeated.
    takeaway = "LORA 就是利用低秩分解来高效近似权重更新"
    [mark] = page.select("section.answer mark")
    assert takeaway in mark.get_text()
    assert page.get_text().count(takeaway) == 1
    assert page.select_one("aside.takeaway") is None
    assert page.select_one("p.source code").get_text().startswith("llm-sft.md:")  # type: ignore[union-attr]


def test_unknown_question_is_a_404_page_and_json(client: TestClient) -> None:
    response = client.get("/questions/nope")
    assert response.status_code == 404
    assert "nope" in soup(response).select_one(".error-message").get_text()  # type: ignore[union-attr]
    api = client.get("/api/questions/nope")
    assert api.status_code == 404 and "nope" in api.json()["detail"]


def test_api_lists_with_filters_and_rejects_bad_input(client: TestClient) -> None:
    body = client.get("/api/questions", params={"company": "阿里", "limit": 2}).json()
    assert body["total"] == 3 and len(body["items"]) == 2
    assert all(any(a["company"] == "阿里" for a in i["asked"]) for i in body["items"])
    bad = client.get("/api/questions", params={"limit": 0})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "limit"
    facets = client.get("/api/facets").json()
    assert {"value": "阿里国际", "count": 3} in facets["company"]


def test_openapi_documents_the_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/questions",
        "/api/questions/{question_id}",
        "/api/review/next",
        "/api/review/rate",
        "/api/review/undo",
        "/api/stats",
    ):
        assert path in paths


def test_serving_a_page_does_not_import_torch(settings: Settings) -> None:
    code = f"""
import sys
from fastapi.testclient import TestClient
from app.config import Settings
from app.db import make_engine, migrate
from app.main import create_app
settings = Settings(data_dir={str(settings.data_dir)!r}, database_url="")
migrate(make_engine(settings))
with TestClient(
    create_app(settings), base_url="http://127.0.0.1", client=("127.0.0.1", 50000)
) as client:
    assert client.get("/").status_code == 200
    assert client.get("/review").status_code == 200
    assert client.get("/demos/rank").status_code == 200
    run = client.post("/api/demos/rank/runs", json={{"params": {{"m": 8, "n": 8, "r": 2}}}})
    assert run.status_code == 200, run.text
    assert client.get("/runs/" + str(run.json()["id"])).status_code == 200
assert "torch" not in sys.modules, "the web process imported torch"
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def options(page: object, facet: str) -> dict[str, str]:
    """A browse dropdown's options: value -> label."""
    return {
        str(o["value"]): o.get_text()
        for o in page.select(f"form.filters select[name={facet}] option")  # type: ignore[attr-defined]
    }


def test_browse_counts_follow_the_filters_and_dropdowns_keep_their_value(
    client: TestClient,
) -> None:
    everything = options(soup(client.get("/questions")), "tag")
    page = soup(client.get("/questions?company=阿里"))
    assert len(page.select("li.question-item")) == 3
    assert options(page, "tag")["LORA"] == "LORA (2)" != everything["LORA"]
    chosen = page.select_one("form.filters select[name=company] option[selected]")
    assert chosen is not None and chosen["value"] == "阿里"  # not the placeholder
    placeholder = page.select_one("form.filters select[name=tag] option[selected]")
    assert placeholder is not None and placeholder["value"] == ""
    # No duplicate hidden field for the value the dropdown already carries.
    assert not page.select("form.filters input[type=hidden][name=company]")


def test_empty_fields_never_reach_the_address(client: TestClient) -> None:
    response = client.get(
        "/questions?q=&company=阿里&role=&stage=&tag=&chapter=", follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/questions?company=%E9%98%BF%E9%87%8C"
    assert client.get("/questions?company=阿里", follow_redirects=False).status_code == 200


def test_switching_language_keeps_the_filters(client: TestClient) -> None:
    page = soup(client.get("/questions?company=阿里&q=LoRA"))
    [switch] = page.select("header .lang a[hreflang=zh]")
    response = client.get(str(switch["href"]), follow_redirects=False)
    assert response.status_code == 303
    back = client.get(response.headers["location"])
    assert str(back.url).endswith("/questions?company=%E9%98%BF%E9%87%8C&q=LoRA")
    chinese = soup(back)
    assert chinese.html["lang"] == "zh-CN"  # type: ignore[index]
    assert {(c["data-facet"], c["data-value"]) for c in chinese.select("li.chip.filter")} == {
        ("company", "阿里"),
        ("q", "LoRA"),
    }


def test_tag_and_company_chips_are_links_to_the_filtered_list(client: TestClient) -> None:
    page = soup(client.get("/questions"))
    first = page.select("li.question-item")[0]
    [tag] = [a for a in first.select(".chip.tag a") if a.get_text() == "LORA"]
    assert len(titles(client, str(tag["href"]))) == len(titles(client, "/questions?tag=LORA"))
    company = first.select_one(".chip.asked a.company")
    assert company is not None and company["href"] == "/questions?company=%E7%BE%8E%E5%9B%A2"


def test_a_search_shows_every_word_and_a_marked_snippet(client: TestClient) -> None:
    assert "为什么在参数高效微调中使用低秩矩阵分解？" in titles(client, "/questions?q=低秩 分解")
    page = soup(client.get("/questions", params={"q": "低秩 初始化"}))
    items = page.select("li.question-item")
    assert items
    marks = {m.get_text() for item in items for m in item.select(".snippet mark")}
    assert "低秩" in marks
    assert not soup(client.get("/questions")).select(".snippet")


def test_each_result_shows_the_questions_own_state(client: TestClient) -> None:
    page = soup(client.get("/questions"))
    first = page.select("li.question-item")[0]
    assert first["data-state"] == "new"
    assert first.select_one(".card-state").get_text(strip=True) == "New"  # type: ignore[union-attr]
    card = client.get("/api/review/next").json()["card"]
    qid = card["question"]["id"]
    rated = client.post(
        "/api/review/rate", json={"question_id": qid, "rating": 3, "version": card["version"]}
    )
    assert rated.status_code == 200, rated.text
    item = soup(client.get("/questions")).select_one(f"li.question-item[data-id='{qid}']")
    assert item is not None and item["data-state"] == "learning"
    assert item.select_one(".last-grade").get_text(strip=True) == "· last: Good"  # type: ignore[union-attr]
