"""Rendering as a reader sees it: bare links clickable and a bold heading line apart
from them, the prime of W' against its letter, key terms that are terms, and the
takeaway once on the exported card."""

from __future__ import annotations

from bs4 import BeautifulSoup

from app.content.parser import parse_text
from app.content.render import render_inline, render_markdown
from app.export import anki


def test_a_bare_url_is_a_link_and_the_bold_line_after_it_starts_a_line() -> None:
    html = render_markdown(
        "参考链接：https://zhuanlan.zhihu.com/p/675231376\n**Prompt Tuning**  \n"
    )
    page = BeautifulSoup(html, "html.parser")
    link = page.select_one("a")
    assert link is not None and link["href"] == "https://zhuanlan.zhihu.com/p/675231376"
    assert link.get_text() == "https://zhuanlan.zhihu.com/p/675231376"
    heading = page.select_one("strong")
    assert heading is not None and heading.find_previous_sibling().name == "br"  # type: ignore[union-attr]
    # A link written as a link is kept; a URL's trailing full stop is not part of it.
    html = render_markdown("see [a](https://x.org/a) and https://y.org/b.")
    assert [a["href"] for a in BeautifulSoup(html, "html.parser").select("a")] == [
        "https://x.org/a",
        "https://y.org/b",
    ]


def test_the_prime_sits_against_its_letter() -> None:
    math = BeautifulSoup(render_inline("$W'$"), "html.parser").select_one("msup")
    assert math is not None
    base, prime = math.find_all(recursive=False)
    assert (base.name, base.get_text()) == ("mi", "W")
    assert (prime.name, prime.get_text()) == ("mo", "′")


ANSWER = """# 章
## 节
### Q. 什么是 LoRA？
参考链接：https://example.org/lora
**LoRA (Low-Rank Adaptation)**
- **方法**：冻结原权重，只训练 **低秩矩阵** 与 `B`。
- 它的核心是 **把大模型的权重更新限制在一个低秩矩阵上** 这一点。
- 问自己 **为什么能行？** 再看。
"""


def test_key_terms_are_short_terms_not_headings_labels_or_sentences() -> None:
    [question] = parse_text(ANSWER, path="a.md").questions
    assert question.key_terms == ["低秩矩阵"]


def test_the_anki_card_shows_the_takeaway_once() -> None:
    # The answer (Back) carries the highlighted takeaway; the back template does not
    # repeat the Takeaway field under it.
    assert "{{Takeaway}}" not in anki._BACK and "{{Back}}" in anki._BACK
