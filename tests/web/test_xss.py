"""No script from imported data: every ``|safe`` in the templates is listed here (a new one
fails until reviewed), and quiz items from an uploaded user-data file are stored inert."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import REPO_ROOT
from app.content.snippets import snippet
from app.models import Question, Quiz
from tests.web.conftest import csrf, soup

# Every expression a template prints unescaped, and why that is safe. All of them are
# HTML rendered from the bank by ``app.content.render`` (sanitised with nh3 at import) or
# a quiz item's HTML, sanitised again when a user-data file is imported.
REVIEWED_SAFE = {
    ("browse.html", "question.title_html"): "bank, rendered and sanitised at import",
    ("review.html", "shown.question.title_html"): "bank, rendered and sanitised at import",
    ("question.html", "question.title_html"): "bank, rendered and sanitised at import",
    ("quiz.html", "question.title_html"): "bank, rendered and sanitised at import",
    ("quiz.html", "choice.html"): "quiz payload: built from the bank, or sanitised on upload",
    ("quiz.html", "item.payload.statement_html"): "quiz payload: idem",
    ("quiz.html", "item.payload.html"): "quiz payload: idem",
    ("quiz.html", "question.answer_html"): "bank, rendered and sanitised at import",
    ("quiz_results.html", "m.title_html"): "bank, rendered and sanitised at import",
    ("quiz_results.html", "m.answer_html"): "bank, rendered and sanitised at import",
    ("_quiz_answer.html", "statement_html"): "a quiz item's statement_html (see quiz.html)",
    ("_mine.html", "question.takeaway_html"): "bank, rendered and sanitised at import",
    ("mock.html", "question.title_html"): "bank, rendered and sanitised at import",
    ("mock_review.html", "question.title_html"): "bank, rendered and sanitised at import",
    ("mock_history.html", "question.title_html"): "bank, rendered and sanitised at import",
}
# Python code that marks a string safe for the templates, by file.
REVIEWED_MARKUP = {
    "app/web/claims_pages.py": "the bank's answer HTML with claim badges (escaped labels)",
    "app/study/notes.py": "a user's note HTML, rendered and sanitised when saved or imported",
    "app/web/demo_text.py": "a demo's Text rendered by render_inline (sanitised); Markup('')",
    "app/content/snippets.py": (
        "search snippet: every piece escaped, <mark> around escaped text, and each formula"
        " rendered alone by render_inline (sanitised MathML)"
    ),
}
_SAFE = re.compile(r"\{\{\s*([\w.\[\]'\"]+)\s*\|\s*safe\b")
_ANY_SAFE = re.compile(r"\|\s*safe\b")
# A constant written in the template (``'<b>'|safe``) holds no data: safe by construction.
_LITERAL_SAFE = re.compile(r"""(?:'[^'{}]*'|"[^"{}]*")\s*\|\s*safe\b""")
_MARKUP = re.compile(r"\bMarkup\(")
PAYLOAD = "<img src=x onerror=alert(1)>"


def test_every_safe_in_the_templates_is_reviewed() -> None:
    found: set[tuple[str, str]] = set()
    for path in sorted((REPO_ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        named = _SAFE.findall(text)
        # A ``|safe`` the pattern cannot name (in a filter chain, a {% set %}) fails too.
        literal = len(_LITERAL_SAFE.findall(text))
        assert len(named) + literal == len(_ANY_SAFE.findall(text)), (
            f"unlisted |safe form in {path.name}"
        )
        found |= {(path.name, expression) for expression in named}
    assert found == set(REVIEWED_SAFE), (
        "a |safe was added or removed: review it and update REVIEWED_SAFE",
        found ^ set(REVIEWED_SAFE),
    )


def test_every_markup_in_the_code_is_reviewed() -> None:
    found = {
        path.relative_to(REPO_ROOT).as_posix()
        for path in (REPO_ROOT / "app").rglob("*.py")
        if _MARKUP.search(path.read_text(encoding="utf-8"))
    }
    assert found == set(REVIEWED_MARKUP), found ^ set(REVIEWED_MARKUP)


def test_a_search_snippet_shows_markup_in_the_answer_as_text() -> None:
    # A tag too long to be dropped as markdown's inline HTML stays, as text.
    hostile = '<img src=x onerror=alert(1) title="' + "x" * 40 + '">'
    html = str(snippet(f"a < b & c 时 LoRA 的 {hostile}", ["lora", "alert"]))
    page = BeautifulSoup(html, "html.parser")
    assert [tag.name for tag in page.find_all(True)] == ["mark", "mark"]
    assert "&lt;img src=x onerror=<mark>alert</mark>(1)" in html
    assert "a &lt; b &amp; c" in html


def test_a_search_snippet_with_math_renders_it_and_keeps_hostile_text_inert() -> None:
    script = "<script>alert(1)</script>"
    tag = '<img src=x onerror=alert(1) title="' + "x" * 40 + '">'  # stays, as text
    answer = (
        f"LoRA 的 $W \\in \\mathbb{{R}}^{{d}}$ 与 $\\text{{{script}}}$ 及 "
        f"\\({PAYLOAD}\\) 和 a < b & c {tag}"
    )
    html = str(snippet(answer, ["lora", "alert", "script"]))
    page = BeautifulSoup(html, "html.parser")
    tags = {t.name for t in page.find_all(True)}
    assert "math" in tags and not tags & {"script", "img"}, tags
    assert not any(t.attrs.keys() - {"xmlns", "display", "stretchy"} for t in page.find_all(True))
    assert "\\" not in page.get_text() and "mathbb" not in page.get_text()
    # Marks are only on the text around the formulas, never inside one.
    assert [mark.get_text() for mark in page.find_all("mark")] == ["LoRA", "alert"]
    assert all(mark.find_parent("math") is None for mark in page.find_all("mark"))
    assert "a &lt; b &amp; c &lt;img src=x onerror=<mark>alert</mark>(1)" in html


def _quiz(position_items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "created_at": "2026-03-01T00:00:00+00:00",
        "finished_at": None,
        "seed": 1,
        "spec": {"count": 1},
        "feeds_reviews": False,
        "items": position_items,
    }


def _item(question_id: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"position": 0, "question_id": question_id, "type": kind, "payload": payload}


def hostile_file(client: TestClient) -> bytes:
    """The user's (empty) data with one quiz per item type, each item's HTML a script."""
    data = client.get("/export/data.json").json()
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with factory() as session:
        ids = list(session.scalars(select(Question.id).order_by(Question.id).limit(4)))
    choices = [{"question_id": q, "html": f"{PAYLOAD} choice {q}"} for q in ids]
    data["quizzes"] = [
        _quiz([_item(ids[0], "takeaway", {"choices": choices, "answer": 0})]),
        _quiz(
            [
                _item(
                    ids[1],
                    "truefalse",
                    {
                        "claim_id": "c",
                        "statement_html": f"statement {PAYLOAD}<script>alert(2)</script>",
                        "answer": 1,
                        "explanation": "<b>text</b>",
                    },
                )
            ]
        ),
        _quiz(
            [
                _item(
                    ids[2],
                    "cloze",
                    {
                        "html": 'a <span class="blank" aria-label="blank">＿＿＿</span> '
                        f'<a href="javascript:alert(3)">x</a>{PAYLOAD}',
                        "answer": "term",
                        "hint_length": 4,
                    },
                )
            ]
        ),
    ]
    return json.dumps(data).encode()


def assert_inert(page: BeautifulSoup) -> None:
    """No element of the page runs script: no event handler attribute, no script tag
    but the app's own files, no javascript: link."""
    for tag in page.find_all(True):
        handlers = [a for a in tag.attrs if a.lower().startswith("on")]
        assert not handlers, f"<{tag.name}> has {handlers}"
        if tag.name == "script":
            assert urlsplit(str(tag.get("src", ""))).path.startswith("/static/"), tag
        assert not str(tag.get("href", "")).lower().startswith("javascript"), tag


def test_quiz_items_from_an_uploaded_file_are_inert_on_every_item_type(
    client: TestClient,
) -> None:
    token = csrf(soup(client.get("/data")))
    files = {"file": ("mine.json", hostile_file(client), "application/json")}
    response = client.post("/import/data", data={"csrf_token": token}, files=files)
    assert response.status_code == 200, response.text
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with factory() as session:
        quiz_ids = list(session.scalars(select(Quiz.id).order_by(Quiz.id)))
    assert len(quiz_ids) == 3

    seen = {}
    for quiz_id in quiz_ids:
        page = soup(client.get(f"/quizzes/{quiz_id}"))
        section = page.select_one("section.quiz")
        assert section is not None
        assert_inert(page)
        seen[str(section["data-type"])] = page

    assert set(seen) == {"takeaway", "truefalse", "cloze"}
    choices = seen["takeaway"].select("label.choice span")
    assert len(choices) == 4 and all("choice" in c.get_text() for c in choices)
    statement = seen["truefalse"].select_one("blockquote.statement")
    assert statement is not None and statement.get_text().strip() == "statement"
    cloze = seen["cloze"].select_one("blockquote.cloze")
    assert cloze is not None
    # The app's own blank survives the sanitiser; the hostile link loses its target.
    assert cloze.select_one("span.blank[aria-label=blank]") is not None
    link = cloze.select_one("a")
    assert link is not None and link.get("href") is None


def test_an_item_payload_of_the_wrong_shape_is_refused_naming_the_field(
    client: TestClient,
) -> None:
    data = json.loads(hostile_file(client))
    data["quizzes"][2]["items"][0]["payload"]["html"] = ["not", "a", "string"]
    response = client.post("/api/import/data", json=data)
    assert response.status_code == 422
    assert response.json()["field"] == "quizzes.2.items.0.payload.html"


def test_the_template_list_covers_the_templates_folder() -> None:
    names = {name for name, _ in REVIEWED_SAFE}
    assert names <= {p.name for p in Path(REPO_ROOT / "templates").glob("*.html")}
