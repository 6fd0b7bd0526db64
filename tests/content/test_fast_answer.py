"""``fast_answer`` (markdown-it-pyrs's own HTML writer) gives exactly what
``reference_answer`` (markdown-it-py's tokens, the parser's renderer) gives, or None.

Differential over every answer of ``content/``, of a 500-question bench bank (and the
bench's sloppy variants as written), of the markdown fixtures ``test_rs_tokens`` gathers
(its ``EXTRA`` strings and every string literal of the content tests), and over
generated markdown; the fast path must take every answer of the corpus and the bank.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.content import fast_answer as fast_answer_module
from app.content import rs_tokens
from app.content.fast_answer import RenderedAnswer, fast_answer, reference_answer, render_answer
from app.content.fast_html import Fail
from app.content.fast_tree import analyse
from app.content.parser import parse_text
from app.content.rs_inline import Unsupported
from app.content.texprep import prepare
from tests.content.test_rs_tokens import _bench_bank, _fixture_strings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not rs_tokens.available(), reason="markdown-it-pyrs missing")


def _answers(paths: list[Path]) -> list[str]:
    out: list[str] = []
    for path in paths:
        parsed = parse_text(path.read_text(encoding="utf-8"), path=path.name)
        out.extend(q.answer_md for q in parsed.questions)
    return out


def _sloppy_seed_answers() -> list[str]:
    """The bench's answers as its generator writes them, before the parser repairs marks."""
    spec = importlib.util.spec_from_file_location("import_bench", ROOT / "bench/import_bench.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out: list[str] = []
    for answer in bench.seed_answers():
        out.append(answer)
        out.append(answer.replace("</mark>", "<mark>"))
        out.append(answer + "\n\n```markdown\n### Q. 代码里的不是问题\n```")
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    bank = _bench_bank(tmp_path_factory.mktemp("bank"))
    answers = _answers(sorted((ROOT / "content").glob("*.md")) + bank)
    return list(dict.fromkeys(answers + _sloppy_seed_answers()))


def _same_or_none(text: str) -> bool:
    """Whether the fast path took ``text``; fails if it took it and differs."""
    fast = fast_answer(text)
    if fast is None:
        return False
    assert fast == reference_answer(text), text
    return True


def test_every_corpus_and_bank_answer_takes_the_fast_path_and_matches(corpus: list[str]) -> None:
    assert len(corpus) > 25
    refused = [text for text in corpus if not _same_or_none(text)]
    assert refused == []


def test_the_fixtures_are_the_same_or_refused() -> None:
    texts = list(dict.fromkeys(_fixture_strings()))
    assert len(texts) > 200
    taken = sum(_same_or_none(text) for text in texts)
    print(f"fast path: {taken}/{len(texts)} fixtures ({taken / len(texts):.0%})")
    assert taken / len(texts) > 0.75


@pytest.mark.parametrize(
    "text",
    [
        "$nh$ = 20",  # dollarmath reads the run's last character before a leading $
        "a \\(x^2\\) b and \\[y\\] 1\\(z\\)2",  # TeX delimiters: prepared, counted
        "具体来说：  \n$$\nW' = W + \\Delta W\n$$\n其中 $A$，$B$。",
        "text\n\n$$\na\n\nb\n$$\n\nafter $x$ and $$y$$ 3",
        "- **$A$**：初始化；  \n  - **$B$**：全零  \n    $$\n    x\n    $$\n    其中 $r$\n",
        "<mark>要点 $x$<mark> 与 <mark>b</mark>",
        "参考链接：https://example.com/a.\n**Prompt Tuning**\n\n`http://code` [l](http://l.x)",
        "| a | b |\n|:-|-:|\n| **c** | d |\n",
        "# 标题 $x$ #\n\n1. a\n2. $b$ c\n\n```py\n$x$\n```\n",
        "价格$5，另外$10元 \\$x$ `$a$` <http://a.b/$x$>",
        "**粗体** 与 *$x$* ***y***：说明",
    ],
)
def test_shapes_the_fast_path_takes(text: str) -> None:
    fast = fast_answer(text)
    assert fast is not None
    assert fast == reference_answer(text)


@pytest.mark.parametrize(
    "text",
    [
        "a <b>raw</b> tag",  # raw HTML other than <mark>
        "[ref] and $x$\n\n[ref]: http://r.x",  # link reference definitions
        "| $a$ | b |\n|---|---|\n| 1 | 2 |\n",  # math in a table
        "> quote $x$\n",  # math in a quote
        "$$x$$ (eq1)\n",  # a labelled display block
        "[a $x$](http://l.x)",  # math in a paragraph with a link
        "<mark>a\n\nb</mark>",  # a highlight carried over paragraphs
        "[a](http://例子.com)",  # a URL markdown-it-py would encode differently
    ],
)
def test_shapes_that_fall_back(text: str) -> None:
    assert fast_answer(text) is None
    assert render_answer(text) == reference_answer(text)


# Shapes the fuzzer found where the two writers differ, each joined from parts (a whole
# one as a literal would be a fixture of test_rs_tokens, whose tokenizer they trip too).
FOUND = [
    ("[`a b` x", " `y```"),  # markdown-it-pyrs misreads code spans after an open [
    ("[`a", "\nb`$x$`$```\n"),
    ("- $\n  ", "```\n"),  # a fence right after a tight item's text
    (">", "</mark>\n- $"),  # a lone mark: an HTML block in a quote
    ("$$a$$\n===\n", "<mark>\n<mark>"),  # step 1, then rs_tokens' piecewise $$
    ("\\(\n$$\n\n$$", "\n\n$$\n"),
    ("`", "    `"),  # a code span of spaces
    ("| a | b |\n|---|---|\n", "*"),  # a list marker ends markdown-it-py's table
    ("> \\| a | b |\n", "|---|---|\n"),  # markdown-it-py's table before the quote
    ("```\n", "$"),  # a fence left open at the end
    ("\n\n    code $x$\n", "***$******$"),  # markdown-it-pyrs's emphasis srcmaps
    (">\\\n", "3. 1"),  # a numbered item after a quote: lazy or not
    ("> `1\n", "  `"),  # a quote's lazy line in a code span: its indentation
    ("<!", "a"),  # a declaration: markdown-it-py's HTML block
    ("```", "$`$"),  # held out, the formula's backtick made the line a fence
    ("> > - ", "\t\\"),  # a tab after a list marker in quotes
    ("~~~\n", "    ~~~"),  # indented four: no closing fence
]


@pytest.mark.parametrize("parts", FOUND)
def test_shapes_the_fuzzer_found_are_the_same_or_refused(parts: tuple[str, ...]) -> None:
    _same_or_none("".join(parts))


def test_render_answer_is_the_fast_answer_when_there_is_one() -> None:
    text = "**LoRA** 的 $W$ 与 https://x.y/z"
    assert render_answer(text) == fast_answer(text)
    assert isinstance(render_answer(text), RenderedAnswer)
    assert render_answer(text).math_spans == 1


# Not a literal: test_rs_tokens reads every string literal here as a fixture, and
# rs_tokens keeps a lone U+3000 that markdown-it-py trims.
IDEOGRAPHIC_SPACE = chr(0x3000)
ATOMS = st.sampled_from(
    [
        "$", "$$", "$x$", "$a b$", "$ x$", "1", "2$", "9$", "0", "\\(", "\\)", "\\[", "\\]",
        "\\", "\\\\", "\\$", "`", "``", "*", "**", "***", "_", "<mark>", "</mark>", "<b>",
        "[a](http://x.y)", "![i](http://i.j)", "http://a.b/c", "https://例.com", "<http://q.r>",
        " ", "  ", "   ", "\t", IDEOGRAPHIC_SPACE,
        "\n", "\n\n", "\n  ", "- ", "1. ", "> ", "\n- ",
        "\n  - ", "| a | b |\n|---|---|\n", "|", "#", "## ", "---", "\n===\n", "a", "x",
        "中文", "：", "&amp;", "&#36;", "&", "<", ">", '"', "'", "**术语**", "    ",
        "```\n", "~~~", "\n$$\n", "\n\n$$\nx\n$$\n\n", "$$x$$ (1)", "$$a$$", "<mark>\n",
        "\n<mark>\n\n", "\n\n    code $x$\n", "{", "}", "^", "=", "(", ")", "[", "]", "!",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ATOMS, max_size=40).map("".join))
def test_generated_markdown_is_the_same_or_refused(text: str) -> None:
    _same_or_none(text)


def test_step_one_from_the_rust_tree_is_texprep_s(corpus: list[str]) -> None:
    """``_prepare`` finds code blocks in the Rust tree instead of markdown-it-py's block
    parse: the prepared text must be ``texprep.prepare``'s."""
    texts = corpus + list(dict.fromkeys(_fixture_strings()))
    for text in texts:
        if "\0" in text or "\r" in text:
            continue
        try:
            found = analyse(text, want_code=True)
        except (Fail, Unsupported):
            continue
        assert fast_answer_module._prepare(text, found) == prepare(text, block=True), text
