"""markdown-it-pyrs gives what markdown-it-py gives, on the whole corpus.

``app.content.rs_tokens`` builds markdown-it-py's tokens from the Rust tree. Here every
file of ``content/``, a 500-question bank from ``bench/import_bench.py``'s generator,
and every string literal of the content tests (their fixtures: hostile HTML, math next
to digits, broken fences, ...) is parsed both ways: the parsed files (answers' HTML,
titles, takeaways, key terms, links, diagnostics and their lines) must be equal, and
so must the token streams. Known and harmless differences, left out of the comparison:
markdown-it-py keeps an empty text token where a line starts with ``**``, marks a lone
escaped character's text token ``info="escape"``, and fills an inline or image token's
``content`` (an image's alt text is rendered from its children); none of these reaches
HTML or the parser.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from markdown_it.token import Token

from app.content import answer_render, parser, render, rs_tokens
from app.content.cache import to_dict
from app.content.markdown import markdown_parser
from app.content.parser import parse_text

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not rs_tokens.available(), reason="markdown-it-pyrs missing")


def _signature(tokens: list[Token], top: bool = True) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for t in tokens:
        if t.type == "text" and not t.content:
            continue
        line_map = t.map if top and (t.level == 0 or t.type in ("fence", "code_block")) else None
        out.append(
            (
                t.type,
                t.tag,
                t.nesting,
                t.level,
                line_map,
                "" if t.type in ("inline", "image") else t.content,
                "" if t.type == "text" else t.info,
                dict(t.attrs),
                t.hidden,
                t.block,
                _signature(t.children, top=False) if t.children else None,
            )
        )
    return out


def _bench_bank(tmp: Path) -> list[Path]:
    spec = importlib.util.spec_from_file_location("import_bench", ROOT / "bench/import_bench.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.generate(tmp, 500, 100)
    return sorted(tmp.glob("*.md"))


# Markdown the fixtures may lack: links the two libraries could write differently, math
# in every kind of block, and the block boundaries math can move.
EXTRA = [
    *(
        f"{form % url}\n"
        for url in ("例子", "a b", "x%zz", "http://a/[1]", "javascript:alert(1)", "HTTP://A.B",
                    "data:text/html,x", "http://例子.com", "http://a.b/例?q=例", "a@b.c")
        for form in ("[a](%s)", "![a *b*](%s \"t&amp;\")", "<%s>")
    ),
    "- a $x$ **$y$**\n  - b $z$ `$q$`\n- c\n\n  $w$ d\n",
    "1. $a$\n   more $b$\n2) x\n",
    "> quote $x$\n> more\n\n# Head $y$\n\n| $a$ | b |\n|---|--:|\n| 1 | $c$ |\n",
    "text\n$$\na\n\nb\n$$\n\nafter $x$\n\n$$x$$ (eq1)\n",
    "- `a\n    b` $x$\n- <span title=\"$a$\">x</span>\n",
    "Setext $x$\n===\n\nA  \nhard\\\nbreak &amp; &copy; \\* $5 and $10\n",
    "<div>\n$x$\n</div>\n\n    code $x$\n\n```\n$$\n```\n",
    "[ref] and [x][ref]\n\n[ref]: http://r.x \"T\"\n",
    "***\n- [ ] a\n- \n\n+ b\n\n  c\n",
    # Unicode spaces markdown-it-py trims from a run's ends; a final line of spaces.
    "ab\u3000\n\n\u3000cd\xa0\n\n- e\u2003\n\n# f\u3000\n\n| g\u3000 |\n|---|\n| h |\n",
    "- a\n  b\n   ", "- a\n\n  - b\n  ", "1. a\n\t",
]  # fmt: skip


def _fixture_strings() -> Iterator[str]:
    yield from EXTRA
    for path in sorted((ROOT / "tests/content").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
                yield node.value


def _parsed_with_python_tokenizer(
    monkeypatch: pytest.MonkeyPatch, text: str, path: str
) -> dict[str, Any]:
    with monkeypatch.context() as m:
        m.setattr(parser, "parse_outline", lambda t: markdown_parser().parse(t))
        m.setattr(parser, "parse_inline", lambda t: markdown_parser().parseInline(t))
        m.setattr(answer_render, "parse_tokens", lambda t: markdown_parser().parse(t))
        m.setattr(render, "parse_tokens", lambda t: markdown_parser().parse(t))
        m.setattr(render, "parse_inline", lambda t: markdown_parser().parseInline(t))
        return to_dict(parse_text(text, path=path))


def test_the_corpus_parses_the_same(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    files = sorted((ROOT / "content").glob("*.md")) + _bench_bank(tmp_path)
    assert len(files) >= 6
    for path in files:
        text = path.read_text(encoding="utf-8")
        expected = _parsed_with_python_tokenizer(monkeypatch, text, path.name)
        assert expected["questions"], path
        assert to_dict(parse_text(text, path=path.name)) == expected, path


def test_the_fixtures_tokenize_and_render_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = list(dict.fromkeys(_fixture_strings()))
    assert len(texts) > 200
    for text in texts:
        assert _signature(rs_tokens.parse_tokens(text)) == _signature(
            markdown_parser().parse(text)
        ), text
        assert _signature(rs_tokens.parse_inline(text)) == _signature(
            markdown_parser().parseInline(text)
        ), text
        expected = _parsed_with_python_tokenizer(monkeypatch, text, "fixture.md")
        assert to_dict(parse_text(text, path="fixture.md")) == expected, text


def test_most_of_a_bank_is_tokenized_in_rust(tmp_path: Path) -> None:
    """The speed comes from the Rust side: on the bench's bank, blocks without a ``$``
    (most of them) must not fall back to markdown-it-py."""
    text = _bench_bank(tmp_path)[0].read_text(encoding="utf-8")
    calls: list[int] = []
    md = markdown_parser()
    original = md.parse

    def counting(src: str, env: Any = None) -> list[Token]:
        calls.append(len(src))
        return original(src, env)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(md, "parse", counting)
        rs_tokens.parse_tokens(text)
    assert 0 < sum(calls) < len(text) / 2


def test_a_rust_panic_falls_back_without_a_message(capfd: pytest.CaptureFixture[str]) -> None:
    """markdown-it-pyrs 0.4.0 panics on a link label over a broken fence: markdown-it-py
    parses the text instead, and Rust's panic message stays off stderr."""
    text = "[a\n```py`\nb\n"
    assert _signature(rs_tokens.parse_tokens(text)) == _signature(markdown_parser().parse(text))
    assert capfd.readouterr().err == ""
