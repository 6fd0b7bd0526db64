"""A run page's chart-numbers tables (folded under each chart) read as the rest of the
page: math in a column header set as MathML (``GB（10⁹ 字节）``, not ``GB（109 字节）``),
the chart's series named in a list with the reader's separator (、 in Chinese)."""

from __future__ import annotations

import pytest
from bs4 import Tag

from app.demos.base import DemoResult, Series
from app.demos.text import t
from app.i18n import set_language, translations
from app.web.demo_view import result_view
from tests.web.conftest import MakeClient, soup
from tests.web.test_demo_pages import run_now

MEMORY_PARTS = ("model weights", "gradients", "optimizer states", "activations")


def memory_tables(make_client: MakeClient, language: str) -> tuple[Tag, list[Tag]]:
    """The training-memory chart's numbers (its summary, its tables) on a peft_params run."""
    client = make_client(language=language)
    created = client.post("/api/demos/peft_params/runs", json={"params": {}})
    assert created.status_code == 200, created.text
    assert run_now(client, created.json()["id"]) == "succeeded"
    page = soup(client.get(f"/runs/{created.json()['id']}"))
    for details in page.select("details.result-details"):
        tables = details.select("table.series")
        if tables and len(tables) == len(MEMORY_PARTS):
            summary = details.select_one("summary")
            assert summary is not None
            return summary, tables
    raise AssertionError("no chart of the four memory parts on the run page")


@pytest.mark.parametrize(("language", "lang"), [("en-US", "en"), ("zh-CN", "zh")])
def test_math_in_a_chart_tables_header_is_set_as_math(
    make_client: MakeClient, language: str, lang: str
) -> None:
    _, tables = memory_tables(make_client, language)
    for table in tables:
        y = table.select("thead th")[1]
        sup = y.select_one("math msup")
        assert sup is not None, y
        assert [n.get_text() for n in sup.select("mn")] == ["10", "9"]
        # Around the formula, the header's words as the catalogue has them.
        words = translations(lang).gettext("GB ($10^9$ bytes)").replace("$10^9$", "")
        y.select_one("math").decompose()  # type: ignore[union-attr]
        assert y.get_text().split() == words.split()
        # The values carry their unit; the header names it once.
        assert all(td.get_text().endswith(" GB") for td in table.select("tbody td:nth-of-type(2)"))


@pytest.mark.parametrize(
    ("language", "lang", "separator"), [("en-US", "en", ", "), ("zh-CN", "zh", "、")]
)
def test_a_charts_series_are_listed_with_the_readers_separator(
    make_client: MakeClient, language: str, lang: str, separator: str
) -> None:
    summary, _ = memory_tables(make_client, language)
    names = [translations(lang).gettext(part) for part in MEMORY_PARTS]
    assert summary.get_text().endswith(separator.join(names)), summary.get_text()
    if lang == "zh":
        assert ", " not in summary.get_text()


def test_series_names_that_hold_a_comma_are_listed_with_semicolons() -> None:
    """lora_roles' arms read "A random, B = 0 (PEFT)": joined with commas the list could
    not be told apart; the chart's numbers name them with semicolons (；in Chinese)."""
    names = [t("$A$ random, $B = 0$ (PEFT)"), t("$A$ and $B$ random")]
    series = [Series(name=n, x=[0.0], y=[1.0], chart="loss") for n in names]
    result = DemoResult(figures={}, conclusion="done", series=series)
    set_language("en")
    assert result_view(result).charts[0].title == "A random, B=0 (PEFT); A and B random"
    set_language("zh")
    assert result_view(result).charts[0].title == "A 随机、B=0（PEFT）；A 和 B 都随机"
