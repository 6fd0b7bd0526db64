"""Size limits on what the importer reads, so a hostile or broken bank costs bounded time
and memory (a 12 MB answer of ``$x^2$`` once took 42 s and 3.6 GB to import and made an
88 MB page). Each is an error naming ``file:line``; the file is not imported.

Generous for real banks: the seed's longest answer is about 3,000 characters with 12
formulas.
"""

from __future__ import annotations

# A content file, in characters: larger files are refused before they are parsed.
MAX_FILE_CHARS = 2_000_000
# One answer, in characters (markdown as written).
MAX_ANSWER_CHARS = 100_000
# Formulas in one answer (``$..$``, ``$$..$$``, ``\(..\)``, ``\[..\]``).
MAX_MATH_SPANS = 500
# Formulas in one file (each becomes MathML, about 20 times its TeX's size).
MAX_FILE_MATH_SPANS = 20_000
# One question title, in characters.
MAX_TITLE_CHARS = 1_000


def sizes(size: int, most: int) -> dict[str, str]:
    """A size and its limit as a message's values (``chars``, ``most``), as ``12,345``."""
    return {"chars": f"{size:,}", "most": f"{most:,}"}
