"""Topic-tag spelling variants are one tag: ``LORA`` = ``LoRA``, ``ＬｏＲＡ`` = ``LoRA``,
``LoRA 微调`` = ``LoRA微调`` (NFKC width, case and spaces, as company names: issue 18).

A spelling the aliases keep apart (``keep_apart: tags: [GO, Go]`` in ``aliases.yaml``,
``app.content.names``) is a tag of its own: its key is ``=`` and the exact spelling, so
it never shares a key with a folded spelling."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache


def fold(text: str) -> str:
    """Case-, width- and space-insensitive form of ``text`` (NFKC, casefold, one space)."""
    return _fold_short(text) if len(text) <= _SHORT else _fold(text)


_SHORT = 200


def _fold(text: str) -> str:
    # str.split() splits at exactly what the regex ``\s+`` matches (every code point
    # checked) and drops the ends: ``re.sub(r"\s+", " ", ...).strip()``, 3 times faster
    # on an answer's search text.
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


# A bank repeats its tags and companies thousands of times; long text (an answer's
# search text) is folded once and not kept.
_fold_short = lru_cache(maxsize=16384)(_fold)


KEPT_PREFIX = "="


@lru_cache(maxsize=65536)
def tag_key(spelling: str, kept: frozenset[str] = frozenset()) -> str:
    """The key two spellings share when they are the same tag (no spaces at all); a
    spelling in ``kept`` (kept apart by the aliases) keys only itself."""
    if kept and spelling.strip() in kept:
        return KEPT_PREFIX + spelling.strip()
    return fold(spelling).replace(" ", "")


def filter_keys(spelling: str) -> tuple[str, str]:
    """The keys a filter on ``spelling`` looks for: the folded tag, or the spelling
    kept apart by the aliases."""
    return tag_key(spelling), KEPT_PREFIX + spelling.strip()


def display_name(spellings: Iterable[str]) -> str:
    """The most frequent spelling; ties go to the spelling seen first."""
    counts = Counter(spellings)
    if not counts:
        raise ValueError("a tag needs at least one spelling")
    best = max(counts.values())
    return next(s for s in counts if counts[s] == best)
