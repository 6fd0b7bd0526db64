"""The one markdown-it configuration the parser (and later the renderer) share.

CommonMark plus tables and dollar math. ``double_inline`` lets ``$$..$$`` follow a
paragraph line; ``allow_digits=False, allow_space=False`` keep ``价格$5，另外$10元`` from
being read as math (DESIGN.md, "Known pitfalls").
"""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin


@cache
def markdown_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    dollarmath_plugin(md, allow_space=False, allow_digits=False, double_inline=True)
    return md
