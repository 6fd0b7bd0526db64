"""The nearest format hint for a file in which no question was read (issue 18): which
line looked most like a question, and why it was not read as one."""

from __future__ import annotations

import re

from app.content.model import Message
from app.i18n import mark as N_

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(?P<hashes>#{1,6})(?P<space>\s*)(?P<rest>.*)$")
_Q = re.compile(r"^(?:\*\*)?[QＱ]\d*(?:[.．:：、]|\s)")
_PLAIN_Q = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?(?:\*\*)?(?:[QＱ]\d*[.．:：、]|问[:：题])")


def nearest_hint(text: str) -> Message | None:
    """``nearest: line N `…`: why it is not a question``, or None when no line looks like
    one."""
    fence: int | None = None
    candidates: list[tuple[int, int, Message]] = []  # (rank, line, hint)
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            fence = None if fence is not None else number
            continue
        shown = line.strip()[:60]
        heading = _HEADING.match(line)
        if fence is not None:
            if heading and _Q.match(heading["rest"]):
                hint = Message(
                    N_("it is inside a code block (opened at line %(line)d)"), {"line": fence}
                )
                candidates.append((0, number, hint))
            continue
        if heading and _Q.match(heading["rest"].strip()):
            hashes = heading["hashes"]
            if not heading["space"]:
                template = N_("`%(hashes)s` with no space after it is no heading: write `### Q. …`")
                candidates.append((1, number, Message(template, {"hashes": hashes})))
            elif len(hashes) != 3:
                template = N_(
                    "it is a level-%(level)d heading (`%(hashes)s`) with no metadata line under "
                    "it; questions are `### Q.`"
                )
                values = {"level": len(hashes), "hashes": hashes}
                candidates.append((1, number, Message(template, values)))
        elif heading and len(heading["hashes"]) == 3 and heading["space"]:
            template = N_(
                "a `###` heading without `Q.` is a question only when a metadata line "
                "(`> **Company**: … | **Round**: …`) follows it"
            )
            candidates.append((3, number, Message(template)))
        elif not heading and _PLAIN_Q.match(line):
            hint = Message(N_("it is not a heading: start the line with `### Q. `"))
            candidates.append((2, number, hint))
    if not candidates:
        return None
    _, number, hint = min(candidates, key=lambda c: c[:2])
    shown = text.splitlines()[number - 1].strip()
    if len(shown) > 60:
        shown = shown[:57] + "…"
    template = N_("nearest: line %(line)d `%(shown)s`: %(hint)s")
    return Message(template, {"line": number, "shown": shown, "hint": hint})
