"""A page's address with a query value the page cannot use (``/runs/1?cached=abc``) is a
400 page in the reader's language: it names the value as the address has it, says why,
and links to the page without it. The JSON API keeps its 422 naming the field."""

from __future__ import annotations

import pytest

from tests.web.conftest import MakeClient, soup

# Every page route with a query value of a type or range a link can get wrong.
BAD_QUERIES = [
    ("/runs/1?cached=abc", "cached=abc 无法使用：必须是整数", "/runs/1"),
    ("/quizzes/1?feedback=next", "feedback=next 无法使用：必须是整数", "/quizzes/1"),
    ("/settings?saved=maybe", "saved=maybe 无法使用：必须是 true 或 false", "/settings"),
    ("/mock?interview=0", "interview=0（面试） 无法使用：必须至少为 1", "/mock"),
    (
        "/questions?tag=qlora&page=0",
        "page=0（页码） 无法使用：必须至少为 1",
        "/questions?tag=qlora",
    ),
    (
        "/claims?verdict=wrong&tag=qlora",
        "verdict=wrong（结论） 无法使用：必须是以下之一：",
        "/claims?tag=qlora",
    ),
    (
        "/review?ahead=" + "1" * 17,
        "ahead=" + "1" * 17 + "（提前学习） 无法使用：最多 16 个字符",
        "/review",
    ),
    ("/data?q=" + "x" * 201, "q=" + "x" * 39 + "…（搜索） 无法使用：最多 200 个字符", "/data"),
]


@pytest.mark.parametrize(("url", "shown", "without"), BAD_QUERIES)
def test_a_bad_query_value_on_a_page_is_explained_in_chinese(
    make_client: MakeClient, url: str, shown: str, without: str
) -> None:
    client = make_client(language="zh-CN")
    response = client.get(url)
    assert response.status_code == 400
    page = soup(response)
    title, message = page.select_one("main h1"), page.select_one(".error-message")
    assert title is not None and message is not None
    assert title.get_text() == "链接有误"
    text = message.get_text()
    assert text.startswith(f"地址中的 {shown}") and text.endswith(
        "请检查链接，或打开不带该值的页面。"
    )
    assert "Input should" not in text and "请检查表单" not in page.get_text()
    link = page.select_one("main a.error-link")
    assert link is not None and link["href"] == without
    assert "链接有误" not in client.get(without).text  # (run 1 and quiz 1 are 404s here)


def test_the_same_page_in_english_and_the_api_keeps_its_422(make_client: MakeClient) -> None:
    page = make_client(language="en").get("/runs/1?cached=abc")
    assert page.status_code == 400
    message = soup(page).select_one(".error-message")
    assert message is not None and message.get_text() == (
        "In this address, cached=abc cannot be used: must be a whole number. "
        "Check the link, or open the page without it."
    )
    client = make_client(language="zh-CN")
    api = client.get("/api/questions?limit=abc")
    assert api.status_code == 422
    assert api.json()["field"] == "limit" and "valid integer" in api.json()["detail"]
    claims = client.get("/api/claims", params={"verdict": "wrong"})
    assert claims.status_code == 422 and claims.json()["field"] == "verdict"
    # A wrong path with a bad query value as well is still no page at all.
    assert client.get("/runs/abc?cached=abc").status_code == 404


def test_no_link_where_leaving_the_value_out_would_not_help(make_client: MakeClient) -> None:
    """A value the page needs, or a value in a form's address: the page says why and
    links nowhere but home (the page without it would be refused again)."""
    client = make_client(language="zh-CN")

    def probe(n: int) -> str:  # a page route whose query value is required
        return str(n)

    client.app.router.add_api_route("/probe", probe, methods=["GET", "POST"])  # type: ignore[attr-defined]
    for response in (client.get("/probe"), client.post("/probe?n=x")):
        assert response.status_code == 400
        page = soup(response)
        message = page.select_one(".error-message")
        assert message is not None and message.get_text().endswith("请检查链接。")
        assert page.select_one("a.error-link") is None
    assert "n 无法使用：此项必填" in client.get("/probe").text
