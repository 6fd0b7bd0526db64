"""The interface speaks Chinese and English; every interface string is translated."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from app.i18n import LOCALE_DIR, negotiate
from tests.conftest import REPO_ROOT
from tests.web.conftest import MakeClient, soup


def nav(client: TestClient) -> list[str]:
    return [a.get_text() for a in soup(client.get("/questions")).select("header nav a")]


def test_language_follows_accept_language(make_client: MakeClient) -> None:
    assert nav(make_client(language="en-US,en;q=0.9")) == [
        "Browse",
        "Review",
        "Interviews",
        "Stats",
        "Quizzes",
        "Mock interview",
        "Demos",
        "Claims",
        "Sources",
        "Settings",
    ]
    assert nav(make_client(language="zh-CN,zh;q=0.9,en;q=0.8")) == [
        "浏览",
        "复习",
        "面试",
        "统计",
        "测验",
        "模拟面试",
        "演示",
        "论断",
        "来源",
        "设置",
    ]


def test_the_switch_is_remembered(make_client: MakeClient) -> None:
    client = make_client(language="en")
    response = client.get("/lang/zh?next=/questions", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/questions"
    assert nav(client) == [
        "浏览",
        "复习",
        "面试",
        "统计",
        "测验",
        "模拟面试",
        "演示",
        "论断",
        "来源",
        "设置",
    ]
    assert soup(client.get("/")).html["lang"] == "zh-CN"  # type: ignore[index]
    # Never an open redirect.
    assert (
        client.get("/lang/en?next=//evil.example", follow_redirects=False).headers["location"]
        == "/"
    )


def test_negotiation() -> None:
    assert negotiate("fr-FR,en;q=0.5,zh;q=0.7") == "zh"
    assert negotiate("en") == "en"
    assert negotiate(None) == "zh"
    assert negotiate("de") == "zh"


def test_every_interface_string_has_a_chinese_translation(tmp_path: Path) -> None:
    pot = f"{tmp_path}/messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "gettext",
            "-k",
            "ngettext:1,2",
            # Demo text (app/demos/text.py): titles, labels, headlines, checks.
            "-k",
            "N_",
            "-k",
            "t",
            "-o",
            pot,
            ".",
        ],
        check=True,
        cwd=REPO_ROOT,
        capture_output=True,
    )
    with open(pot, "rb") as f:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    with (LOCALE_DIR / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (m.string if isinstance(m.string, str) else all(s for s in m.string or ()))
    }
    assert extracted, "nothing was extracted"
    missing = extracted - translated
    assert not missing, f"untranslated (run scripts/i18n.sh, then translate): {sorted(missing)}"
    # A reworded string leaves its old entry behind; scripts/i18n.sh marks it obsolete (#~).
    stale = translated - extracted
    assert not stale, f"translations of texts the code no longer has: {sorted(stale)}"


def test_a_label_takes_the_colon_of_its_language(make_client: MakeClient) -> None:
    """Chinese writes a full-width colon after a label (到期：6), English ``Due: 6``."""
    zh = soup(make_client(language="zh-CN").get("/review"))
    en = soup(make_client(language="en").get("/review"))
    due_zh = zh.select_one("#due-count").parent.get_text()  # type: ignore[union-attr]
    due_en = en.select_one("#due-count").parent.get_text()  # type: ignore[union-attr]
    assert due_zh.startswith("到期：") and due_en.startswith("Due: ")


def test_the_api_reference_page_says_its_language(make_client: MakeClient) -> None:
    """/docs (Swagger UI, vendored) carries the app's lang, as every page does."""
    assert soup(make_client(language="zh-CN").get("/docs")).html["lang"] == "zh-CN"  # type: ignore[index]
    assert soup(make_client(language="en").get("/docs")).html["lang"] == "en"  # type: ignore[index]


def test_no_translated_string_hides_inside_an_f_string() -> None:
    """pybabel does not look inside f-strings: a ``_("...")`` there is never extracted, so
    it shows in English and its catalogue entry looks unused."""
    import ast

    marked = {"_", "gettext", "ngettext", "N_", "t"}
    hidden = []
    for path in sorted((REPO_ROOT / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Name)
                    and call.func.id in marked
                    and call.args
                    and isinstance(call.args[0], ast.Constant)
                ):
                    hidden.append(f"{path.relative_to(REPO_ROOT)}:{call.lineno}")
    assert not hidden, f"move these calls out of their f-string: {hidden}"
