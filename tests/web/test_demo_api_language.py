"""/api/demos gives titles and summaries in the asked language (``?lang=``, else the
``lang`` cookie, else Accept-Language, as pages do); the keys and parameters stay."""

from __future__ import annotations

from typing import Any

from app.demos import get_demo
from app.i18n import translations
from tests.web.conftest import MakeClient


def rank(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return next(d for d in entries if d["name"] == "rank")


def test_the_catalogue_follows_the_readers_language(make_client: MakeClient) -> None:
    demo = get_demo("rank")
    chinese_title = translations("zh").gettext(demo.title)
    assert chinese_title != demo.title  # the catalogue has it in Chinese
    client = make_client(language="zh-CN")
    zh = rank(client.get("/api/demos").json())
    assert zh["title"] == chinese_title and zh["language"] == "zh"
    assert zh["summary"] == translations("zh").gettext(demo.summary)
    en = rank(client.get("/api/demos", params={"lang": "en"}).json())
    assert en["title"] == demo.title and en["language"] == "en"
    assert set(en) == set(zh) and en["params"] == zh["params"]
    one = client.get("/api/demos/rank", params={"lang": "en"}).json()
    assert one["title"] == demo.title
    client.cookies.set("lang", "en")
    assert rank(client.get("/api/demos").json())["title"] == demo.title
    assert client.get("/api/demos", params={"lang": "fr"}).status_code == 422
