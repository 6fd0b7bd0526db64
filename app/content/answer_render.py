"""An answer's HTML and what the parser reads from it (key terms, links, formulas).

``read_answer`` reads an answer's own markdown once. Two ways, the same values:

- ``app.content.fast_answer``: markdown-it-pyrs's own HTML writer (Rust) with the
  formulas held out, about twice as fast; it declines (None) what it cannot vouch for.
  It renders as it reads, so it is taken only for an answer that cannot be refused for
  its formulas (``max_spans``: at most half its ``$`` signs plus its ``\\(``/``\\[`` can
  be formulas).
- markdown-it-py's tokens (``rs_tokens.parse_tokens``), read first: the parser checks the
  count of formulas against ``app.content.limits`` before it asks for the HTML, where the
  cost is (MathML, the sanitiser).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from app.content.answer_parts import key_terms, links
from app.content.fast_answer import fast_answer
from app.content.render import render_markdown
from app.content.rs_tokens import parse_tokens

__all__ = ["AnswerParts", "read_answer"]

_MATH_TOKENS = frozenset({"math_inline", "math_inline_double", "math_block", "math_block_label"})
_TEX_OPENERS = re.compile(r"\\[(\[]")


@dataclass(frozen=True)
class AnswerParts:
    """``math_spans``: formulas (``$..$``, ``$$..$$``, ``\\(..\\)``, ``\\[..\\]``), the
    count ``app.content.limits`` bounds; ``render()``: the sanitised HTML."""

    math_spans: int
    key_terms: list[str]
    links: list[str]
    render: Callable[[], str]


def read_answer(answer_md: str, *, max_spans: int) -> AnswerParts:
    """The answer's parts; rendering it may be left undone when it holds more than
    ``max_spans`` formulas (the caller refuses it)."""
    bound = answer_md.count("$") // 2 + len(_TEX_OPENERS.findall(answer_md))
    fast = fast_answer(answer_md) if bound <= max_spans else None
    if fast is not None:
        html = fast.html
        return AnswerParts(fast.math_spans, fast.key_terms, fast.links, lambda: html)
    tokens = parse_tokens(answer_md)
    spans = len(_TEX_OPENERS.findall(answer_md))
    for tok in tokens:
        spans += tok.type in _MATH_TOKENS
        spans += sum(c.type in _MATH_TOKENS for c in tok.children or ())
    return AnswerParts(
        math_spans=spans,
        key_terms=key_terms(tokens),
        links=links(tokens),
        render=lambda: render_markdown(answer_md, tokens),
    )
