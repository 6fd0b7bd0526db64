"""Request-validation errors on pages are in the reader's language; the API stays English."""

from __future__ import annotations

from tests.web.conftest import MakeClient, soup


def test_a_bad_query_value_on_a_page_is_explained_in_chinese(make_client: MakeClient) -> None:
    client = make_client(language="zh-CN")
    response = client.get("/runs/1?cached=abc")
    assert response.status_code == 422
    text = soup(response).get_text()
    assert "cached: 必须是整数" in text
    assert "Input should be" not in text
    too_long = client.get("/questions", params={"q": "x" * 201})
    assert too_long.status_code == 422
    assert "搜索: 最多 200 个字符" in soup(too_long).get_text()  # the field by its label


def test_the_same_error_in_english_and_in_the_json_api(make_client: MakeClient) -> None:
    page = make_client(language="en").get("/runs/1?cached=abc")
    assert page.status_code == 422 and "cached: must be a whole number" in page.text
    api = make_client(language="zh-CN").get("/api/questions?limit=abc")
    assert api.status_code == 422
    assert api.json()["field"] == "limit" and "valid integer" in api.json()["detail"]
