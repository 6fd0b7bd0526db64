"""Topic-tag spelling variants are one tag: ``LORA`` = ``LoRA``, ``ＬｏＲＡ`` = ``LoRA``,
``LoRA 微调`` = ``LoRA微调`` (NFKC width, case and spaces, as company names: issue 18)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Case-, width- and space-insensitive form of ``text`` (NFKC, casefold, one space)."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def tag_key(spelling: str) -> str:
    """The key two spellings share when they are the same tag (no spaces at all)."""
    return fold(spelling).replace(" ", "")


def display_name(spellings: Iterable[str]) -> str:
    """The most frequent spelling; ties go to the spelling seen first."""
    counts = Counter(spellings)
    if not counts:
        raise ValueError("a tag needs at least one spelling")
    best = max(counts.values())
    return next(s for s in counts if counts[s] == best)
