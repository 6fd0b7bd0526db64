"""What the text alone tells ``app.content.fast_answer``: shapes it refuses outright,
and whether ``app.content.fast_tree`` needs markdown-it-pyrs's tree to vouch for it."""

from __future__ import annotations

import re

from markdown_it.common.utils import MD_TRIM_CHARS

__all__ = [
    "DELIMITER_ROW",
    "LONE_MARK_LINE",
    "ODD_SPACE",
    "SUSPECT_HTML",
    "needs_tree",
    "refused",
]

# markdown-it-py and markdown-it-pyrs disagree on what a list marker alone on a line
# interrupts, on a numbered marker (not 1) right after a quote's line, and on the
# indentation of a quote's lazy line (in a code span); markdown-it-pyrs misses HTML
# blocks of declarations (``<!a``); tabs in containers' prefixes are read differently.
_REFUSED = re.compile(
    r"^[ \t>]*(?:[-+*]|[0-9]{1,9}[.)])[ \t]*$|<[!?]|^[ >*+0-9.)-]*\t", re.MULTILINE
)
_REFUSED_QUOTED = re.compile(
    r"^[ \t]*>.*\n[ \t]*(?!1[.)])[0-9]{1,9}[.)]"
    r"|^[ \t]*(?:(?:[-+*]|[0-9]{1,9}[.)])[ \t]+)*>.*\n[ \t]+(?![ \t]*>)",
    re.MULTILINE,
)


def refused(text: str) -> bool:
    """The text-level refusals above."""
    if _REFUSED.search(text) is not None:
        return True
    return ">" in text and _REFUSED_QUOTED.search(text) is not None


DELIMITER_ROW = re.compile(r"^[ \t>]*[|:-][|: \t-]*$", re.MULTILINE)
# Spaces markdown-it-py trims from a run's ends and markdown-it-pyrs keeps.
_ODD_SPACES = "[" + re.escape(MD_TRIM_CHARS.translate({9: None, 10: None, 32: None})) + "]"
ODD_SPACE = re.compile(_ODD_SPACES)
# What ``analyse`` needs the tree for: formulas, tables, code that may end the text,
# raw HTML (a <mark> alone on its line is an HTML block), link reference definitions,
# spaces markdown-it-py trims and Rust keeps.
LONE_MARK_LINE = re.compile(
    r"</?mark\s*\n|^(?:[ \t>]|(?:[-+*]|[0-9]{1,9}[.)])[ \t])*</?mark\s*>[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_NEEDS_TREE = re.compile(
    r"[$|]|```|~~~|<(?!/?mark\s*>)[A-Za-z/!?]|^[ \t>]*\[[^\]\n]*\]:|" + _ODD_SPACES,
    re.MULTILINE | re.IGNORECASE,
)
SUSPECT_HTML = re.compile(r"<(?!/?mark\s*>)[A-Za-z/!?]", re.IGNORECASE)


def needs_tree(text: str) -> bool:
    """Whether ``text`` holds anything ``fast_tree.analyse`` needs the tree for."""
    if "$" in text or "|" in text or "```" in text or "~~~" in text or "\\" in text:
        return True
    if "<" in text and SUSPECT_HTML.search(text):
        return True
    return _NEEDS_TREE.search(text) is not None or LONE_MARK_LINE.search(text) is not None
