"""A formula stays in its span: ``\\text{<img ...>}`` or a raw, unclosed ``<math>`` in an
answer must not pull the rest of the answer into the formula (or run script)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from app.content.render import render_markdown

REST = "rest of the answer **bold**\n\n- item"


@pytest.mark.parametrize(
    "start",
    [
        "a $\\text{<img src=x onerror=alert(1)>}$ b",
        'a $\\text{<img src="x}$ b',
        "a $\\text{<b>}$ b",
        "a <math><mtext> b",
        "x\n\n<math><mtext>",
        "a <math> b",
    ],
)
def test_the_rest_of_the_answer_stays_outside_any_formula(start: str) -> None:
    page = BeautifulSoup(render_markdown(f"{start}\n\n{REST}"), "html.parser")
    rest = next(p for p in page.find_all("p") if "rest of the answer" in p.get_text())
    assert rest.find_parent("math") is None
    assert rest.select_one("strong") is not None
    item = page.select_one("li")
    assert item is not None and item.find_parent("math") is None
    assert all(not a.startswith("on") for tag in page.find_all(True) for a in tag.attrs)


def test_text_in_a_formula_shows_as_text() -> None:
    page = BeautifulSoup(render_markdown("$\\text{<b>a&b</b>} x<y$"), "html.parser")
    mtext = page.select_one("math mtext")
    assert mtext is not None and mtext.get_text() == "<b>a&b</b>"
    assert page.select_one("math b") is None and page.select_one("math mo") is not None
