"""Finding a claim's quote in a rendered answer and highlighting exactly it."""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag

from app.claims.highlight import Mark, answer_text, find_quote, highlight, quote_text
from app.content.loader import load_file
from app.content.render import render_markdown

REPO_ROOT = Path(__file__).resolve().parents[2]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"}
BADGE = '<span class="badge">✔</span>'


@lru_cache(maxsize=1)
def bank() -> dict[str, str]:
    """Question title -> answer HTML of the seed bank."""
    parsed = load_file(REPO_ROOT / "content" / "llm-sft.md", REPO_ROOT / "content")
    assert parsed.questions
    return {q.title: q.answer_html for q in parsed.questions}


def answer(title_start: str) -> str:
    return next(html for title, html in bank().items() if title.startswith(title_start))


def compact(text: str) -> str:
    return "".join(text.split())


class _Nesting(HTMLParser):
    """Fails on an end tag that does not close the innermost open element, or a <mark>
    inside MathML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert not (tag == "mark" and "math" in self.stack), "a <mark> inside MathML"
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def marked(html: str, claim: str) -> list[Tag]:
    """The claim's <mark> pieces, after checking the HTML nests properly."""
    checker = _Nesting()
    checker.feed(html)
    checker.close()
    assert checker.stack == []
    return BeautifulSoup(html, "html.parser").select(f'mark[data-claim="{claim}"]')


def marked_text(html: str, claim: str) -> str:
    return compact("".join(piece.get_text() for piece in marked(html, claim)))


def test_quote_text_is_the_visible_text_of_the_rendered_quote() -> None:
    assert quote_text("**低秩**分解  $\\Delta W = BA$\n成立") == "低秩分解 ΔW=BA 成立"
    assert quote_text("`x<y` 与 a &lt; b") == "x<y 与 a < b"
    assert answer_text("<p>a <em>b</em></p>\n<p>&amp;\tc</p>") == "a b & c"


def test_plain_chinese_quote_is_wrapped_exactly() -> None:
    html = answer("啥是矩阵的秩")
    quote = "用两个低秩矩阵的乘积近似一个高秩更新"
    out = highlight(html, [Mark("c1", quote, BADGE)])
    (piece,) = marked(out, "c1")
    assert piece.get_text() == quote
    assert f'<mark class="claim" data-claim="c1">{quote}</mark>{BADGE}' in out
    assert "本质：<mark" in out  # not the whole list item


def test_quote_spanning_bold_marks_each_text_run() -> None:
    html = render_markdown("对权重做**低秩**分解，只训练两个小矩阵。")
    out = highlight(html, [Mark("c1", "**低秩**分解", BADGE, "claim claim-supported")])
    pieces = marked(out, "c1")
    assert [p.get_text() for p in pieces] == ["低秩", "分解"]
    assert pieces[0].find_parent("strong") is not None
    assert pieces[1].find_parent("strong") is None
    assert out == (
        '<p>对权重做<strong><mark class="claim claim-supported" data-claim="c1">低秩</mark>'
        '</strong><mark class="claim claim-supported" data-claim="c1">分解</mark>'
        f"{BADGE}，只训练两个小矩阵。</p>"
    )


def test_real_quote_spanning_bold_and_math() -> None:
    html = answer("为什么在参数高效微调中使用低秩矩阵分解")
    quote = "**显著降参**：只需训练 $O(r(d+k))$ 个参数"
    out = highlight(html, [Mark("c1", quote, BADGE)])
    assert (
        marked_text(out, "c1") == compact(quote_text(quote)) == "显著降参：只需训练O(r(d+k))个参数"
    )
    assert len(BeautifulSoup(out, "html.parser").select('mark[data-claim="c1"] > math')) == 1


def test_inline_math_is_wrapped_whole() -> None:
    html = render_markdown("LoRA 把更新写成 $\\Delta W = BA$，其中 $B$ 初始化为零。")
    out = highlight(html, [Mark("c1", "写成 $\\Delta W = BA$，其中")])
    pieces = marked(out, "c1")
    assert [p.get_text() for p in pieces] == ["写成 ", "ΔW=BA", "，其中"]
    assert len(pieces[1].contents) == 1 and len(pieces[1].select(":scope > math")) == 1


def test_quote_touching_part_of_a_formula_marks_all_of_it() -> None:
    html = answer("LORA的原理")
    out = highlight(html, [Mark("c1", "其中 $A \\in$")])
    assert marked_text(out, "c1") == "其中A∈ℝd×r"


def test_real_quote_with_math_and_whitespace_differences() -> None:
    html = answer("LORA矩阵是如何初始化的")
    quote = "这样一开始$\\Delta W=AB=0$，相当于模型初始输出\n与原模型完全一致"
    out = highlight(html, [Mark("c1", quote, BADGE)])
    assert marked_text(out, "c1") == compact(quote_text(quote))
    assert out.count('data-claim="c1"') == 3  # text, formula, text
    span = find_quote(html, quote)
    assert span is not None
    assert answer_text(html)[span[0] : span[1]] == (
        "这样一开始 ΔW=AB=0，相当于模型初始输出与原模型完全一致"
    )


def test_quote_across_a_line_break_and_bold() -> None:
    html = answer("LORA的原理")
    quote = "**把大模型的权重更新限制在一个低秩矩阵上**。\n具体来说，大模型权重 $W$ 不直接更新"
    out = highlight(html, [Mark("c1", quote, BADGE)])
    assert marked_text(out, "c1") == compact(quote_text(quote))
    assert "。</mark><br>" in out  # the <br> is never inside a mark
    assert find_quote(html, "大模型权重$W$不直接更新") is not None


def test_whitespace_inside_mathml_does_not_matter() -> None:
    html = "<p>于是 <math><mi>A</mi>\n  <mo>=</mo> <mi>B</mi></math> 成立</p>"
    out = highlight(html, [Mark("c1", "于是$A=B$成立")])
    assert marked_text(out, "c1") == "于是A=B成立"


def test_real_quote_with_code_span_and_badge_after_the_code() -> None:
    html = answer("LLM 训练中遇到 Loss 突增")
    quote = "**混合精度 (FP16/BF16)** 时检查溢出，可用 `GradScaler`"
    out = highlight(html, [Mark("c1", quote, BADGE)])
    pieces = marked(out, "c1")
    assert compact("".join(p.get_text() for p in pieces)) == compact(quote_text(quote))
    assert pieces[-1].get_text() == "GradScaler"
    # The quote ends with the code span: the badge goes after </code>, not inside it.
    assert '<code><mark class="claim" data-claim="c1">GradScaler</mark></code>' + BADGE in out


def test_badge_stays_right_after_a_quote_that_ends_inside_an_element() -> None:
    html = render_markdown("见 [PEFT 官方文档](https://example.org) 的说明。")
    out = highlight(html, [Mark("c1", "见 PEFT 官方", BADGE)])
    assert f">PEFT 官方</mark>{BADGE}文档</a>" in out
    out = highlight(html, [Mark("c2", "见 [PEFT 官方文档](https://example.org)", BADGE)])
    assert out.endswith(f">PEFT 官方文档</mark></a>{BADGE} 的说明。</p>")


def test_quote_spanning_list_items_leaves_the_list_structure_alone() -> None:
    html = answer("Prompt Tuning")
    quote = "引导模型完成特定任务。**优点**：参数量极小"
    out = highlight(html, [Mark("c1", quote, BADGE)])
    assert marked_text(out, "c1") == compact(quote_text(quote))
    assert "</li>\n<li>" in out  # the newline between the items is not marked


def test_entities_are_kept_verbatim() -> None:
    html = answer("Prompt Tuning")
    for quote in ("参数量极小（通常 <0.1%）", "参数量极小（通常 &lt;0.1%）"):
        out = highlight(html, [Mark("c1", quote)])
        assert '<mark class="claim" data-claim="c1">参数量极小（通常 &lt;0.1%）</mark>' in out
    html = "<p>if a &lt; b &amp;&amp; c &#60; d</p>"
    out = highlight(html, [Mark("c1", "a &lt; b"), Mark("c2", "c < d")])
    assert out == (
        '<p>if <mark class="claim" data-claim="c1">a &lt; b</mark> &amp;&amp; '
        '<mark class="claim" data-claim="c2">c &#60; d</mark></p>'
    )


def test_attribute_values_are_escaped() -> None:
    out = highlight("<p>abc</p>", [Mark('x"><b', "b", css_class="claim <x>")])
    assert out == '<p>a<mark class="claim &lt;x&gt;" data-claim="x&quot;&gt;&lt;b">b</mark>c</p>'


def test_quote_not_found_or_empty_leaves_html_unchanged() -> None:
    html = answer("LORA的原理")
    assert highlight(html, [Mark("c1", "这句话不在答案里", BADGE), Mark("c2", " ", BADGE)]) == html
    assert find_quote(html, "这句话不在答案里") is None
    assert find_quote(html, "") is None


def test_only_the_first_occurrence_is_marked() -> None:
    html = render_markdown("秩越小越省；秩越小越省。")
    out = highlight(html, [Mark("c1", "秩越小越省")])
    assert out.count("<mark") == 1
    assert out.index("<mark") == len("<p>")


def test_two_marks_both_apply_in_document_order() -> None:
    html = answer("为什么在参数高效微调中使用低秩矩阵分解")
    first = "大模型在特定任务上的参数更新通常处于一个低秩子空间"
    second = "**效率与存储**：大幅减少显存开销与存储需求"
    out = highlight(html, [Mark("late", second, BADGE), Mark("early", first, BADGE)])
    assert marked_text(out, "early") == compact(quote_text(first))
    assert marked_text(out, "late") == compact(quote_text(second))
    assert out.index('data-claim="early"') < out.index('data-claim="late"')
    assert out.count(BADGE) == 2


def test_overlapping_quote_is_skipped_in_favour_of_the_earlier_mark() -> None:
    html = render_markdown("LoRA 只训练低秩矩阵 $A, B$，冻结原权重。")
    short, long = Mark("short", "低秩矩阵"), Mark("long", "只训练低秩矩阵 $A, B$")
    assert marked(highlight(html, [short, long]), "long") == []
    assert marked_text(highlight(html, [short, long]), "short") == "低秩矩阵"
    assert marked(highlight(html, [long, short]), "short") == []
    # Sharing only a formula counts as overlapping: math is marked whole.
    head, tail = Mark("head", "只训练低秩矩阵 $A$"), Mark("tail", "$, B$，冻结")
    assert marked_text(highlight(html, [tail]), "tail") == "A,B，冻结"
    out = highlight(html, [head, tail])
    assert marked_text(out, "head") == "只训练低秩矩阵A,B"
    assert marked(out, "tail") == []
    # Quotes that merely touch both apply.
    after = Mark("after", "，冻结原权重")
    out = highlight(html, [long, after])
    assert marked_text(out, "after") == "，冻结原权重"
    assert "</math></mark><mark" in out


def test_no_marks_round_trips_every_answer_of_the_bank() -> None:
    for html in bank().values():
        assert highlight(html, []) == html
        assert highlight(html, [Mark("x", "这句话不在答案里")]) == html


@pytest.mark.parametrize("title", list(bank()), ids=lambda title: title[:12])
def test_highlight_only_inserts_marks_across_the_bank(title: str) -> None:
    """Quote windows of every answer's own text: each is found, marked exactly (more only
    where a formula is touched) and, with the marks removed, the HTML is as before."""
    html = bank()[title]
    text = answer_text(html)
    opening = '<mark class="claim t" data-claim="w">'
    for start in range(0, len(text) - 12, 37):
        window = text[start : start + 12].strip()
        if not window or quote_text(window) != window:
            continue  # markdown syntax in the window: not a quote an author would write
        out = highlight(html, [Mark("w", window, "", "claim t")])
        pieces = marked(out, "w")
        got = compact("".join(piece.get_text() for piece in pieces))
        if any(piece.find("math") for piece in pieces):
            assert compact(window) in got
        else:
            assert got == compact(window)
        unmarked = out.replace(opening, "").replace("</mark>", "")
        assert unmarked == html.replace("</mark>", "")
        assert answer_text(out) == text


def test_marks_never_end_inside_mathml_or_split_an_entity() -> None:
    html = answer("LORA矩阵是如何初始化的")
    out = highlight(html, [Mark("c1", "$\\nabla_B \\Delta W \\neq 0$，因此更新首先发生在")])
    assert re.search(r"<mark[^>]*><math[^>]*>.*?</math></mark>", out)
    marked(out, "c1")  # nesting checked there
