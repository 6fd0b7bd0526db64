"""Browsing's read side on the seed bank: facet counts follow the other filters, a
search of several words needs all of them (SQLite and PostgreSQL), and results carry a
snippet with the matches marked and everything else escaped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy.orm import Session

from app.config import Settings
from app.content.filters import QuestionFilter
from app.content.importer import import_paths
from app.content.queries import facet_values, list_questions
from app.content.snippets import snippet
from app.db import make_engine, make_sessionmaker, migrate
from tests.conftest import SEED

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
MATHML = {"math", "mrow", "mi", "mo", "mn", "msup", "msub", "msubsup", "mfrac", "mtext", "mspace"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def session(request: pytest.FixtureRequest, tmp_path: Path, content_dir: Path) -> Iterator[Session]:
    """The seed bank on SQLite, and on a fresh PostgreSQL database."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else ""
    engine = make_engine(Settings(database_url=url, data_dir=tmp_path / "data"))
    try:
        migrate(engine)
        (content_dir / "llm-sft.md").write_bytes(SEED.read_bytes())
        with make_sessionmaker(engine)() as s:
            with s.begin():
                import_paths(s, paths=[content_dir], content_dir=content_dir, now=T0)
            yield s
    finally:
        engine.dispose()


def titles(session: Session, **kw: object) -> list[str]:
    _, found = list_questions(session=session, flt=QuestionFilter(**kw))  # type: ignore[arg-type]
    return [q.title for q in found]


def counts(session: Session, flt: QuestionFilter) -> dict[str, dict[str, int]]:
    return {k: dict(v) for k, v in facet_values(session=session, flt=flt).items()}


def test_facet_counts_follow_the_other_filters(session: Session) -> None:
    everything = counts(session, QuestionFilter())
    ali = QuestionFilter(company=("阿里",))
    within = counts(session, ali)
    ali_titles = titles(session, company=("阿里",))
    # Each topic's count is its share of 阿里's questions, not of the whole bank.
    for tag, n in within["tag"].items():
        assert n == len(titles(session, company=("阿里",), tag=(tag,))), tag
        assert n <= len(ali_titles)
    assert within["tag"]["LORA"] == 2 < everything["tag"]["LORA"]
    # The company facet itself still offers the alternatives, counted as if chosen.
    assert within["company"] == everything["company"]
    # Two facets: the topic narrows the companies' counts, the company the topics'.
    both = counts(session, QuestionFilter(company=("阿里",), tag=("QLoRA",)))
    assert both["company"] == {"阿里国际": 1, "阿里": 0}  # the chosen one stays listed
    assert both["tag"]["QLoRA"] == 0  # chosen, none of 阿里's: still listed, with 0
    assert both["chapter"] == {}  # no question at all


def test_a_search_of_several_words_needs_every_word_in_any_order(session: Session) -> None:
    found = titles(session, q="低秩 分解")
    assert "为什么在参数高效微调中使用低秩矩阵分解？" in found
    assert set(found) == set(titles(session, q="分解  低秩"))
    assert set(found) == set(titles(session, q="低秩")) & set(titles(session, q="分解"))
    assert titles(session, q="低秩 不存在的词") == []
    # Case and width folded per word; LIKE wildcards are literal.
    assert titles(session, q="ＬＯＲＡ 原理") == titles(session, q="lora 原理") != []
    assert titles(session, q="% _") == []


def test_results_carry_a_snippet_around_the_match(session: Session) -> None:
    _, found = list_questions(session=session, flt=QuestionFilter(q="低秩 初始"))
    assert found
    for q in found:
        if q.snippet_html is not None:
            assert "<mark>" in q.snippet_html
    _, plain = list_questions(session=session, flt=QuestionFilter())
    assert all(q.snippet_html is None for q in plain)


def test_a_snippet_marks_each_word_and_escapes_the_rest() -> None:
    text = "前文" * 50 + " 用 **ＬｏＲＡ** 做 x > y & <i>z</i> 的低秩更新 " + "后文" * 50
    html = snippet(text, ["lora", "低秩", ">"])
    assert html is not None
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>ＬｏＲＡ</mark>" in html and "<mark>低秩</mark>" in html
    assert "<mark>&gt;</mark> y &amp; z" in html  # inline tags dropped, the rest escaped
    assert "<i>" not in html and "**" not in html
    assert snippet("没有匹配", ["lora"]) is None
    evil = snippet("<script>alert(1)</script> lora", ["lora"])
    assert evil is not None and "<script" not in evil


def test_a_snippet_shows_math_rendered_never_as_tex(session: Session) -> None:
    # The seed's answers write "$W \\in \\mathbb{R}^{d \\times k}$" and "\\(r \\ll ..\\)".
    _, found = list_questions(session=session, flt=QuestionFilter(q="冻结 低秩"))
    shown = [BeautifulSoup(str(q.snippet_html), "html.parser") for q in found if q.snippet_html]
    with_math = [page for page in shown if page.find("math")]
    assert with_math, "a snippet of an answer with math"
    for page in shown:
        text = page.get_text()
        assert "\\" not in text and "mathbb" not in text and "$" not in text, text
        assert {tag.name for tag in page.find_all(True)} - MATHML <= {"mark"}
        assert page.find("mark") is not None
    # A formula is shown whole in place, a display one inline; a word of its TeX is never
    # marked, and the text around it stays escaped.
    html = snippet(
        "设 $W \\in \\mathbb{R}^{d \\times k}$ 与 $$r \\ll d$$，x<y & LoRA in",
        ["lora", "in"],
    )
    page = BeautifulSoup(str(html), "html.parser")
    assert [m.get("display") for m in page.find_all("math")] == ["inline", "inline"]
    assert [m.get_text() for m in page.find_all("mark")] == ["LoRA", "in"]
    assert "ℝ" in page.get_text() and "\\" not in page.get_text()
    assert "x&lt;y &amp; <mark>LoRA</mark>" in str(html)
