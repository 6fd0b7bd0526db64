"""Whether a re-imported answer changed substantially (``app.content.importer`` then
stamps the question's cards so their users are offered to relearn it).

The measure is difflib's: the share of characters the two texts have in common,
``2 * matches / (len(old) + len(new))``, by characters with all whitespace left out
(the bank is Chinese: there are no words to split on, and re-wrapping a paragraph,
which can turn a line break into a space, is no change). The common start and end are
matched first, so a local edit of a long answer costs little more than the edit.
"""

from __future__ import annotations

import os
from difflib import SequenceMatcher

# An answer (or its takeaway) that keeps less than this share of the old text changed
# substantially: a typo fix or a reworded sentence stays well above it, a rewrite falls
# below.
SAME_ANSWER_RATIO = 0.8


def similarity(old: str | None, new: str | None) -> float:
    """The share of ``old`` and ``new`` in common, from 0 (nothing) to 1 (the same);
    below ``SAME_ANSWER_RATIO``, an upper bound of it (enough to tell a change)."""
    a, b = "".join((old or "").split()), "".join((new or "").split())
    if a == b:
        return 1.0
    total = len(a) + len(b)
    head = len(os.path.commonprefix([a, b]))
    a, b = a[head:], b[head:]
    tail = len(os.path.commonprefix([a[::-1], b[::-1]]))
    a, b = a[: len(a) - tail], b[: len(b) - tail]
    # autojunk would ignore frequent characters (的, 是) of a long Chinese answer.
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    # quick_ratio bounds the matches from above in linear time: most rewrites stop here.
    bound = 2 * (head + tail) + matcher.quick_ratio() * (len(a) + len(b))
    if bound < SAME_ANSWER_RATIO * total:
        return bound / total
    matches = sum(block.size for block in matcher.get_matching_blocks())
    return 2 * (head + tail + matches) / total


def answer_changed(
    old_answer: str, old_takeaway: str | None, new_answer: str, new_takeaway: str | None
) -> bool:
    """Whether an update changed the answer substantially: its text, or the takeaway
    (the key sentence, which can change while a long answer stays mostly the same),
    keeps less than ``SAME_ANSWER_RATIO`` of the old one."""
    return (
        similarity(old_answer, new_answer) < SAME_ANSWER_RATIO
        or similarity(old_takeaway, new_takeaway) < SAME_ANSWER_RATIO
    )
