"""A claim's verdict from one run's figures, and the sentence that shows them.

``supported`` and ``refuted`` are conditions in the rule language (``app.claims.rules``);
the verdict is the one whose condition holds, ``nuanced`` when neither (or, for a claim
whose author wrote both too loosely, both) holds. A figure the rule needs that the run
lacks makes no verdict at all: the claim shows the reason instead of guessing.

Explanations are templates with ``{figure}`` or ``{figure:.3g}`` fields. Only a figure
name and a plain format spec are allowed (no attribute access, no indexing), so a content
file cannot reach into Python objects the way ``str.format`` would let it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from app.claims.rules import Condition, MissingFigure, figure_names

Verdict = Literal["supported", "refuted", "nuanced"]
# What a page shows: a verdict, or why there is none yet.
Status = Literal["supported", "refuted", "nuanced", "pending", "failed"]
STATUSES: tuple[Status, ...] = ("supported", "refuted", "nuanced", "pending", "failed")

_FIELD_BODY = re.compile(r"(?P<name>[a-z_][a-z0-9_]*)(?::(?P<spec>[^{}]*))?")
# Python's format mini-language for numbers, without nested fields.
_SPEC = re.compile(r"[<>^=]?[+\- ]?#?0?\d{0,3}[,_]?(?:\.\d{1,2})?[eEfFgG%]?")


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    note: str = ""  # set when both conditions held


def judge(
    *, supported: Condition | None, refuted: Condition | None, figures: Mapping[str, float]
) -> Judgement:
    """The verdict of ``figures``; :class:`MissingFigure` when one is absent."""
    is_supported = supported is not None and supported.holds(figures)
    is_refuted = refuted is not None and refuted.holds(figures)
    if is_supported and is_refuted:
        return Judgement("nuanced", "both the supported and the refuted conditions hold")
    if is_supported:
        return Judgement("supported")
    if is_refuted:
        return Judgement("refuted")
    return Judgement("nuanced")


Piece = str | tuple[str, str]  # literal text, or (figure name, format spec)


def parse_template(template: str) -> list[Piece]:
    """``template`` as literal text and ``(name, spec)`` fields; ``{{`` and ``}}`` are
    literal braces. :class:`TemplateError` for anything else inside braces."""
    pieces: list[Piece] = []
    literal: list[str] = []
    i = 0
    while i < len(template):
        char = template[i]
        if char in "{}" and template[i : i + 2] in ("{{", "}}"):
            literal.append(char)
            i += 2
            continue
        if char == "}":
            raise TemplateError("a lone '}': write '}}' for a literal brace")
        if char != "{":
            literal.append(char)
            i += 1
            continue
        end = template.find("}", i)
        body = _FIELD_BODY.fullmatch(template[i + 1 : end]) if end != -1 else None
        if body is None:
            shown = template[i : end + 1] if end != -1 else template[i:]
            raise TemplateError(f"{shown} is not a figure field: write {{name}} or {{name:.3g}}")
        spec = body.group("spec") or ""
        if not _SPEC.fullmatch(spec):
            raise TemplateError(f"{template[i : end + 1]}: {spec!r} is not a number format")
        pieces.extend(["".join(literal), (body.group("name"), spec)])
        literal = []
        i = end + 1
    pieces.append("".join(literal))
    return [p for p in pieces if p != ""]


def template_fields(template: str) -> set[str]:
    """The figure names a template shows; :class:`TemplateError` for a malformed field."""
    return {piece[0] for piece in parse_template(template) if isinstance(piece, tuple)}


def explain(template: str, figures: Mapping[str, float]) -> str:
    """``template`` with each field replaced by its figure, formatted; a figure missing
    from ``figures`` shows as ``?`` (the template was checked at import)."""
    out: list[str] = []
    for piece in parse_template(template):
        if isinstance(piece, str):
            out.append(piece)
            continue
        name, spec = piece
        value = figures.get(name)
        if value is None:
            out.append("?")
            continue
        try:
            out.append(format(value, spec or "g"))
        except ValueError:
            out.append(format(value, "g"))
    return "".join(out)


def used_figures(
    conditions: list[Condition | None], template: str, figures: Mapping[str, float]
) -> dict[str, float]:
    """The figures a claim's rules and explanation read, with their values in this run."""
    names: set[str] = template_fields(template)
    for condition in conditions:
        if condition is not None:
            names |= figure_names(condition)
    # A figure the run could not measure is stored as null (NaN in the demo): left out.
    return {
        name: figures[name]
        for name in sorted(names)
        if isinstance(figures.get(name), int | float) and figures[name] == figures[name]
    }


__all__ = [
    "STATUSES",
    "Judgement",
    "MissingFigure",
    "Status",
    "TemplateError",
    "Verdict",
    "explain",
    "judge",
    "template_fields",
    "used_figures",
]
