"""Layout and language on parsed pages: the navigation marks the current page and has
Interviews, every page links an icon and /favicon.ico answers, the plan lists every
upcoming interview, and the Chinese interface shows service errors in
Chinese."""

from __future__ import annotations

import datetime as dt

from app.web.docs import FAVICON
from tests.web.conftest import MakeClient, soup


def test_the_navigation_marks_the_current_page_and_the_icon_is_served(
    make_client: MakeClient,
) -> None:
    client = make_client()
    for path, current in [("/interviews", "/interviews"), ("/stats", "/stats"), ("/", None)]:
        page = soup(client.get(path))
        marked = [a["href"] for a in page.select("header nav a[aria-current=page]")]
        assert marked == ([current] if current else [])
        assert "/interviews" in [a["href"] for a in page.select("header nav a")]
        icon = page.select_one("link[rel=icon]")
        assert icon is not None and str(icon["href"]).endswith("/static/favicon.svg")
    assert soup(client.get("/")).select_one("a.brand")["aria-current"] == "page"  # type: ignore[index]
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.content == FAVICON.read_bytes()
    assert client.get("/static/favicon.svg").status_code == 200


def test_the_plan_shows_every_upcoming_interview(make_client: MakeClient) -> None:
    client = make_client()
    token = soup(client.get("/interviews")).select_one("input[name=csrf_token]")["value"]  # type: ignore[index]
    today = dt.date.today()
    for company, days in [("阿里", 10), ("无名公司", 2)]:
        date = (today + dt.timedelta(days=days)).isoformat()
        form = {"company": company, "date": date, "csrf_token": str(token)}
        assert client.post("/interviews", data=form).status_code == 200
    page = soup(client.get("/"))
    blocks = page.select("#plan .plan-interview")
    assert len(blocks) == 2  # the company with no questions does not hide 阿里's plan
    assert blocks[0].select_one(".plan-empty") is not None
    assert blocks[1].select_one(".plan-share") is not None
    needed, done, left = (
        int(page.select(f"#plan-{k}")[0].get_text()) for k in ("needed", "done", "left")
    )
    assert left == needed - done
    for stat in page.select("section.today .stat, #plan .today .stat"):
        assert stat.select_one(".explain") is not None  # every figure says what it counts


def test_service_errors_in_chinese_on_pages_english_in_the_api(make_client: MakeClient) -> None:
    client = make_client(language="zh-CN")
    form = soup(client.get("/settings")).select_one("form.settings")
    assert form is not None
    data = {
        str(i["name"]): str(i.get("value", ""))
        for i in form.select("input[name]")
        if i.get("type") != "checkbox"
    }
    data |= {
        str(s["name"]): str(s.select("option[selected]")[0]["value"])
        for s in form.select("select[name]")
        if s.select("option[selected]")
    }
    response = client.post("/settings", data=data | {"timezone": "Mars/Base"})
    assert response.status_code == 422
    message = soup(response).select_one(".error-message").get_text()  # type: ignore[union-attr]
    assert "不是 IANA 时区" in message and "'Mars/Base'" in message
    assert "is not an IANA" not in message
    # The JSON API keeps the English message that names the field.
    api = client.put("/api/settings", json={"timezone": "Mars/Base"})
    assert api.status_code == 422 and "is not an IANA" in api.json()["detail"]
    past = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    token = soup(client.get("/interviews")).select_one("input[name=csrf_token]")["value"]  # type: ignore[index]
    page = soup(
        client.post("/interviews", data={"company": "阿里", "date": past, "csrf_token": str(token)})
    )
    assert "已经过去" in page.select_one(".error-message").get_text()  # type: ignore[union-attr]
