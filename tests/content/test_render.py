"""Rendering at import: markdown -> sanitised HTML with math as MathML.

Checked on parsed HTML (BeautifulSoup), not on substrings: every math span of the seed
becomes ``<math>``, hostile markup never survives, ``<mark>`` takeaways stay highlighted,
and code, tables and currency keep their meaning.
"""

from __future__ import annotations

import re
import textwrap

import pytest
from bs4 import BeautifulSoup, Tag
from hypothesis import given, settings
from hypothesis import strategies as st

from app.content import render
from app.content.model import ParsedFile, ParsedQuestion
from app.content.parser import parse_text
from app.content.render import render_inline, render_markdown
from app.content.rs_tokens import parse_inline
from app.content.texprep import prepare
from tests.conftest import SEED, WriteMd

META = "> **Company**: 美团 | **Round**: 算法工程师 一面 | **Date**: 2025-08-31 | **Tags**: [LoRA]"
# $$..$$, $..$, \(..\), \[..\] in the seed's source.
MATH_SPAN = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$|\\\(.+?\\\)|\\\[.+?\\\]", re.DOTALL)
RAW_TEX = re.compile(r"\$|\\[()\[\]]|\\[A-Za-z]+")
# Whatever the sanitiser lets through must be one of these (MathML's are presentation-only).
SAFE_ATTRIBUTES = {"href", "title", "src", "alt", "start", "class", "align", "rel"} | {
    "display", "xmlns", "mathvariant", "stretchy", "fence", "separator", "accent",
    "accentunder", "lspace", "rspace", "linethickness", "columnalign", "rowalign",
    "columnspacing", "rowspacing", "width", "height", "depth", "notation", "displaystyle",
    "scriptlevel", "movablelimits", "form", "minsize", "maxsize", "largeop", "symmetric",
    "encoding",
}  # fmt: skip
BANNED_ELEMENTS = [
    "script", "iframe", "svg", "style", "object", "embed", "form", "input", "button",
    "textarea", "link", "meta", "base", "frame", "frameset", "annotation-xml", "maction",
    "foreignobject", "template", "noscript", "video", "audio", "source",
]  # fmt: skip
PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    '<img src="data:image/svg+xml;base64,PHN2Zz4=">',
    r"$\text{<img src=x onerror=alert(1)>}$",
    r"$\text{<script>alert(1)</script>}$",
    r"\(\text{<svg onload=alert(1)>}\)",
    r"$$\text{<iframe src=https://evil.example>}$$",
    "<svg onload=alert(1)><circle r=1 /></svg>",
    '<iframe src="https://evil.example"></iframe>',
    "<math><mtext><img src=x onerror=alert(1)></mtext></math>",
    '<math onload=alert(1)><mi onclick=alert(1) style="color:red" href="javascript:alert(1)">x</mi></math>',
    '<math><annotation-xml encoding="text/html"><img src=x onerror=alert(1)></annotation-xml></math>',
    '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<span style="color:red" onmouseover="alert(1)">s</span>',
    "<style>body { display: none }</style>",
    '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><input onfocus=alert(1) autofocus><button formaction="javascript:alert(1)">b</button></form>',
    '<mark onclick="alert(1)">marked</mark>',
    '<code class="language-x" onclick="alert(1)">c</code>',
    '<div class="admin-only" id="x" data-x="1">d</div>',
    "<details open ontoggle=alert(1)>d</details>",
    '<base href="javascript:alert(1)//">',
]


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def only_question(text: str) -> ParsedQuestion:
    parsed = parse_text(textwrap.dedent(text).lstrip("\n"), path="t.md")
    assert parsed.errors == [] and len(parsed.questions) == 1, parsed.diagnostics
    return parsed.questions[0]


@pytest.fixture(scope="module")
def seed() -> ParsedFile:
    return parse_text(SEED.read_text(encoding="utf-8"), path="llm-sft.md")


# (a) math -------------------------------------------------------------------------


def test_every_seed_math_span_becomes_mathml(seed: ParsedFile) -> None:
    spans = MATH_SPAN.findall(SEED.read_text(encoding="utf-8"))
    assert len(spans) == 42
    total = 0
    for question in seed.questions:
        html = soup(question.answer_html)
        maths = html.find_all("math")
        total += len(maths)
        assert not html.select("code.math-error"), question.title
        for math in maths:
            assert math.find(True) is not None, math  # real MathML elements, not raw TeX
            assert not RAW_TEX.search(math.get_text()), math
            math.decompose()
        outside = html.get_text()
        assert not RAW_TEX.search(outside), (question.title, RAW_TEX.findall(outside))
    assert total == len(spans)


def test_display_math_continuing_a_list_item_is_display_mathml(seed: ParsedFile) -> None:
    rank = seed.questions[2]  # its \[ W' = W + A B \] sits inside a list item
    display = soup(rank.answer_html).select('li math[display="block"]')
    assert len(display) == 1
    assert [mi.get_text() for mi in display[0].find_all("mi")][:1] == ["W"]


def test_token_reuse_renders_like_a_fresh_parse(seed: ParsedFile) -> None:
    """The parser hands its own tokens to the renderer; the result must not differ."""
    for question in seed.questions:
        assert question.answer_html == render_markdown(question.answer_md), question.title


def test_token_reuse_matches_on_drifting_files() -> None:
    """Pinned ids, answers glued to the metadata, repaired and unclosed marks, code."""
    parsed = parse_text(
        textwrap.dedent(
            f"""
            # C
            ### Q. 钉住的 id
            <!-- id: pinned-one -->
            {META}

            答案 $x$ <mark>一<mark> 中 <mark>二</mark>
            ### Q. 紧跟元数据
            {META}
            紧跟的答案 **粗体**
            ### Q. 未闭合
            {META}

            | a | b |
            |---|---|
            | 1 | 2 |

            ```python
            ### Q. 代码里的不是问题
            ```

            <mark>没有闭合 \\(y\\)
            """
        ).lstrip("\n"),
        path="t.md",
    )
    assert len(parsed.questions) == 3, parsed.diagnostics
    for question in parsed.questions:
        assert question.answer_html == render_markdown(question.answer_md), question.title
    assert [m.get_text() for m in soup(parsed.questions[0].answer_html).find_all("mark")] == [
        "一",
        "二",
    ]
    assert soup(parsed.questions[2].answer_html).select_one("mark math") is not None


def test_bad_tex_falls_back_to_escaped_source() -> None:
    html = soup(render_markdown(r"坏公式 $\begin{nope}<b>x</b>$ 之后"))
    error = html.select_one("code.math-error")
    assert error is not None and error.get_text() == r"\begin{nope}<b>x</b>"
    assert html.find("b") is None
    assert "之后" in html.get_text()


def test_inline_and_display_delimiters() -> None:
    html = soup(render_markdown("一 \\(a^2\\) 二 $b$ 三\n\n\\[\nc = d\n\\]\n\n$$e$$"))
    assert [m["display"] for m in html.find_all("math")] == ["inline", "inline", "block", "block"]
    # A digit next to \( still gives math (dollarmath alone would refuse "3$x$").
    assert soup(render_inline(r"共 3\(x\)个")).find("math") is not None
    # Markdown's escaped brackets stay a literal citation, not display math.
    cite = soup(render_markdown(r"见文献 \[1\]。"))
    assert cite.find("math") is None and cite.get_text() == "见文献 [1]。"


# (b) XSS --------------------------------------------------------------------------


def assert_safe(html: str, where: str) -> None:
    tree = soup(html)
    for name in BANNED_ELEMENTS:
        assert tree.find(name) is None, (where, name, html)
    for element in tree.find_all(True):
        assert isinstance(element, Tag)
        for attr, value in element.attrs.items():
            assert not attr.lower().startswith("on"), (where, html)
            assert attr in SAFE_ATTRIBUTES, (where, attr, html)
            if attr in ("href", "src"):
                url = re.sub(r"[\s\x00-\x1f]", "", str(value)).lower()
                assert not url.startswith(("javascript:", "data:", "vbscript:")), (where, html)
            if attr == "class":
                classes = value if isinstance(value, list) else [value]
                ok = {"table-wrap", "math-error", "math-label"}
                assert all(c in ok or c.startswith("language-") for c in classes), (where, html)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_never_survives_in_title_answer_or_takeaway(
    payload: str, write_md: WriteMd
) -> None:
    path = write_md(
        "xss.md",
        f"""
        # XSS
        ### Q. 标题 {payload}
        {META}

        {payload}

        前文 {payload} 后文

        - 列表 {payload}

        > 引用 {payload}

        <mark>要点 {payload}</mark>
        """,
    )
    parsed = parse_text(path.read_text(encoding="utf-8"), path="xss.md")
    assert len(parsed.questions) == 1, parsed.diagnostics
    question = parsed.questions[0]
    assert question.takeaway_html is not None
    for where, html in [
        ("title", question.title_html),
        ("answer", question.answer_html),
        ("takeaway", question.takeaway_html),
    ]:
        assert_safe(html, where)


def test_safe_links_keep_their_href_and_gain_rel() -> None:
    html = soup(render_markdown("[a](https://example.com/x) [m](mailto:a@example.com) [r](/q/1)"))
    links = {a.get_text(): a for a in html.find_all("a")}
    assert links["a"]["href"] == "https://example.com/x"
    assert links["m"]["href"] == "mailto:a@example.com"
    assert links["r"]["href"] == "/q/1"
    assert set(links["a"]["rel"]) == {"noopener", "noreferrer", "nofollow"}


def test_mathml_text_with_tags_is_inert() -> None:
    html = soup(render_markdown(r"$\text{<img src=x onerror=alert(1)>}$"))
    assert html.find("math") is not None
    assert all("onerror" not in e.attrs for e in html.find_all(True))


# (c) <mark> takeaways -------------------------------------------------------------


def marked_text(html: str) -> str:
    return squash("".join(m.get_text() for m in soup(html).find_all("mark")))


def test_every_seed_takeaway_is_highlighted(seed: ParsedFile) -> None:
    with_takeaway = [q for q in seed.questions if q.takeaway]
    assert len(with_takeaway) == 9
    for question in with_takeaway:
        assert question.takeaway_html is not None
        takeaway = soup(question.takeaway_html)
        assert takeaway.find("p") is None  # inline: the page puts it in its own <p>
        assert marked_text(question.answer_html) == squash(takeaway.get_text()), question.title
    first = soup(seed.questions[0].answer_html).select_one("mark strong")
    assert first is not None and first.get_text() == "总结"  # `<mark>**总结**` at line start


def test_takeaway_math_is_mathml_in_both_places(seed: ParsedFile) -> None:
    init = seed.questions[3]  # its takeaway holds $B$ and $A$
    assert init.takeaway_html is not None
    assert len(soup(init.takeaway_html).find_all("math")) == 2
    assert len(soup(init.answer_html).select("mark math")) == 2


def test_mark_over_several_lines_is_one_highlight() -> None:
    question = only_question(
        f"""
        # C
        ### Q. 多行
        {META}

        答案。

        <mark>**要点**：第一行
        第二行 $x$
        第三行</mark>
        """
    )
    marks = soup(question.answer_html).find_all("mark")
    assert len(marks) == 1
    assert squash(marks[0].get_text()) == "要点：第一行第二行x第三行"
    assert marks[0].find("strong") is not None and marks[0].find("math") is not None


def test_mark_closed_by_a_second_mark_is_repaired() -> None:
    question = only_question(
        f"""
        # C
        ### Q. 第二个 mark
        {META}

        前文 <mark>要点一<mark> 中间 <mark>要点二</mark> 结尾
        """
    )
    marks = [m.get_text() for m in soup(question.answer_html).find_all("mark")]
    assert marks == ["要点一", "要点二"]
    assert "中间" not in "".join(marks)


def test_lone_mark_lines_still_highlight_rendered_markdown() -> None:
    """``<mark>`` alone on a line would start a raw HTML block (markdown and math left
    unrendered); it must still highlight rendered text."""
    question = only_question(
        f"""
        # C
        ### Q. 单独一行
        {META}

        答案。

        <mark>
        **总结**：$a+b$ 成立
        </mark>

        其后。
        """
    )
    html = soup(question.answer_html)
    mark = html.find("mark")
    assert mark is not None and mark.find("strong") is not None and mark.find("math")
    assert "**" not in html.get_text() and "$" not in html.get_text()
    assert squash(mark.get_text()) == "总结：a+b成立"
    assert question.takeaway_html is not None and soup(question.takeaway_html).find("strong")


def test_mark_across_paragraphs_highlights_each() -> None:
    html = soup(render_markdown("前 <mark>第一段\n\n- 列表项\n\n第三段</mark> 后\n\n不高亮"))
    assert [m.get_text() for m in html.find_all("mark")] == ["第一段", "列表项", "第三段"]
    assert html.select_one("li mark") is not None
    assert "不高亮" not in "".join(m.get_text() for m in html.find_all("mark"))
    # A <mark> alone between blank lines opens a highlight over the next paragraphs.
    alone = soup(render_markdown("<mark>\n\n一段\n\n二段\n\n</mark>\n\n三段"))
    assert [m.get_text() for m in alone.find_all("mark")] == ["一段", "二段"]


# (d) tables, code, currency -------------------------------------------------------


def test_tables_are_wrapped_and_keep_alignment() -> None:
    html = soup(render_markdown("| 方法 | 参数 |\n|:--|--:|\n| LoRA | $r(d+k)$ |"))
    table = html.select_one("div.table-wrap > table")
    assert table is not None
    assert [th["align"] for th in table.find_all("th")] == ["left", "right"]
    assert table.select_one("td math") is not None


def test_code_keeps_language_and_literal_dollars() -> None:
    md = (
        "行内 `$x$` 与 `\\(y\\)` 和 ``a ` $z$``\n\n"
        "```python\nprice = '$x$'  # \\(y\\) \\[z\\]\n```\n\n"
        "    $indented$ \\(code\\)\n\n"
        "- 列表里\n\n  ```bash\n  echo $HOME \\(q\\)\n  ```\n"
    )
    html = soup(render_markdown(md))
    assert html.find("math") is None
    assert [c.get_text() for c in html.select("p code")] == ["$x$", "\\(y\\)", "a ` $z$"]
    python = html.select_one("pre > code.language-python")
    assert python is not None and python.get_text() == "price = '$x$'  # \\(y\\) \\[z\\]\n"
    blocks = [c.get_text() for c in html.select("pre > code")]
    assert "$indented$ \\(code\\)\n" in blocks
    bash = html.select_one("li pre > code.language-bash")
    assert bash is not None and bash.get_text() == "echo $HOME \\(q\\)\n"


def test_a_hostile_language_name_is_dropped() -> None:
    code = soup(render_markdown('```x" onclick="alert(1)\nbody\n```')).select_one("pre > code")
    assert code is not None and "onclick" not in code.attrs and "class" not in code.attrs


def test_currency_is_not_math() -> None:
    html = soup(render_markdown("价格$5，另外$10元"))
    assert html.find("math") is None
    assert html.get_text().strip() == "价格$5，另外$10元"
    assert soup(render_inline(r"花了 \$3 和 \$4")).find("math") is None


def test_inline_rendering_has_no_paragraph_and_renders_markdown() -> None:
    html = soup(render_inline("**LoRA** 的秩 $r$ 与 `code`"))
    assert html.find("p") is None
    assert html.find("strong") is not None and html.find("math") is not None
    assert html.find("code") is not None


@pytest.mark.parametrize(
    "text",
    ["$nh$ = 20", "$$d_h$$ = 64", "$r$ 取 8", "$W_0$ 的秩为 4", r"$x$ 之后 \\"],
)
def test_math_opening_a_text_that_ends_with_a_digit_is_mathml(text: str) -> None:
    """dollarmath reads the character before an opening ``$`` at position 0 as the text's
    last one: ``$nh$ = 20`` stayed raw TeX while ``a $nh$ = 20`` rendered."""
    for html in (render_inline(text), render_markdown(text), render_markdown(f"- {text}")):
        page = soup(html)
        assert page.find("math") is not None, html
        assert "$" not in page.get_text(), html
    # A heading, a table cell and the parser's own tokens (the import path) too.
    question = only_question(f"### Q. $k$ 的维度是 8\n\n{text}\n\n| 列 |\n|---|\n| {text} |\n")
    assert soup(question.title_html).find("math") is not None
    assert len(soup(question.answer_html).find_all("math")) == 2
    # What follows the formula keeps its text, and currency still is not math.
    assert soup(render_inline("$nh$ = 20")).get_text().endswith(" = 20")
    assert soup(render_inline("$5 和 20")).get_text() == "$5 和 20"


_PLAINISH = "ab Zz 中文。，“”.,:;?!()'\"+-=/%19\u3000\xa0"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [*_PLAINISH, *"\t\n\\`*_[]<>&$~|#{}^", "://", "http", "&amp;", "&#x41;", "&copy;"]
        )
    ).map("".join)
)
def test_plain_text_is_escaped_as_parsing_it_would_render_it(text: str) -> None:
    """``render_inline`` escapes text with no markup instead of parsing it: the HTML must
    be what the parse gives (``_html`` of its tokens), whatever the text."""
    parsed = render._html(parse_inline(prepare(text, block=False)), "mathml")
    assert render_inline(text) == parsed
