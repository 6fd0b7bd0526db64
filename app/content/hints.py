"""The nearest format hint for a file in which no question was read (issue 18): which
line looked most like a question, and why it was not read as one."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(?P<hashes>#{1,6})(?P<space>\s*)(?P<rest>.*)$")
_Q = re.compile(r"^(?:\*\*)?[QＱ]\d*(?:[.．:：、]|\s)")
_PLAIN_Q = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?(?:\*\*)?(?:[QＱ]\d*[.．:：、]|问[:：题])")


def nearest_hint(text: str) -> str | None:
    """``line N: `…`: why it is not a question``, or None when no line looks like one."""
    fence: int | None = None
    candidates: list[tuple[int, int, str]] = []  # (rank, line, hint)
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            fence = None if fence is not None else number
            continue
        shown = line.strip()[:60]
        heading = _HEADING.match(line)
        if fence is not None:
            if heading and _Q.match(heading["rest"]):
                candidates.append(
                    (0, number, f"it is inside a code block (opened at line {fence})")
                )
            continue
        if heading and _Q.match(heading["rest"].strip()):
            hashes = heading["hashes"]
            if not heading["space"]:
                hint = f"a heading needs a space after `{hashes}`: write `{hashes} Q. …`"
                candidates.append((1, number, hint))
            elif len(hashes) != 3:
                hint = f"it is a level-{len(hashes)} heading (`{hashes}`); questions are `### Q.`"
                candidates.append((1, number, hint))
        elif heading and len(heading["hashes"]) == 3 and heading["space"]:
            hint = (
                "a `###` heading without `Q.` is a question only when a metadata line "
                "(`> **Company**: … | **Round**: …`) follows it"
            )
            candidates.append((3, number, hint))
        elif not heading and _PLAIN_Q.match(line):
            candidates.append((2, number, "it is not a heading: start the line with `### Q. `"))
    if not candidates:
        return None
    _, number, hint = min(candidates)
    shown = text.splitlines()[number - 1].strip()
    if len(shown) > 60:
        shown = shown[:57] + "…"
    return f"nearest: line {number} `{shown}`: {hint}"
