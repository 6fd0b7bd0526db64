"""A claim's verdict from its runs' figures, and the sentence that shows them.

``undecided``, ``supported`` and ``refuted`` are conditions in the rule language
(``app.claims.rules``). ``undecided`` is read first: when it holds (the effect is inside
the spread) or a spread can't be measured (one run), the check is undecided and says why.
Otherwise the verdict is the one whose condition holds, ``nuanced`` when neither (or, for
a claim whose author wrote both too loosely, both) holds. A figure the rule needs that a
run lacks makes no verdict at all: the claim shows the reason instead of guessing.

Explanations are templates with ``{figure}``, ``{figure:.3g}``, ``{setting.figure}``,
``{mean(figure):.3f}`` (mean, sd, min, max) or ``{n}`` fields. Only these forms and a plain
format spec are allowed (no attribute access, no indexing), so a content file cannot reach
into Python objects the way ``str.format`` would let it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from app.claims.reasons import TOO_FEW_RUNS, Reason
from app.claims.rules import (
    Aggregated,
    Condition,
    Figure,
    Figures,
    MissingFigure,
    Term,
    evidence_of,
    figure_names,
    shown_values,
)
from app.claims.spread import TooFewRuns
from app.content.model import Message, Value
from app.i18n import mark as _

Verdict = Literal["supported", "refuted", "nuanced", "undecided"]
VERDICTS: tuple[Verdict, ...] = ("supported", "refuted", "nuanced", "undecided")
# What a page shows: a verdict, or why there is none yet.
Status = Literal["supported", "refuted", "nuanced", "undecided", "pending", "error"]
STATUSES: tuple[Status, ...] = ("supported", "refuted", "nuanced", "undecided", "pending", "error")

_NAME = r"[a-z_][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)?"
_FIELD_BODY = re.compile(
    rf"(?:(?P<func>mean|sd|min|max)\((?P<inner>{_NAME})\)|(?P<name>{_NAME}))"
    r"(?::(?P<spec>[^{}]*))?"
)
# Python's format mini-language for numbers, without nested fields.
_SPEC = re.compile(r"[<>^=]?[+\- ]?#?0?\d{0,3}[,_]?(?:\.\d{1,2})?[eEfFgG%]?")


class TemplateError(ValueError):
    """A malformed explanation template: an English template marked ``N_`` and its values
    (``str(exc)`` English, ``message`` in the reader's language, as ``RuleError``)."""

    def __init__(self, template: str, /, **values: Value) -> None:
        self.message = Message(template, values)
        super().__init__(self.message.english)


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    # Why: both conditions held, the effect is inside the spread, too few runs (a Reason:
    # English, and the reader's language on pages).
    note: str = ""


def judge(
    *,
    supported: Condition | None,
    refuted: Condition | None,
    figures: Figures,
    undecided: Condition | None = None,
) -> Judgement:
    """The verdict of ``figures`` (one run's, or an ``Evidence`` of several);
    :class:`MissingFigure` when one is absent."""
    try:
        if undecided is not None and undecided.holds(figures):
            values = shown_values(undecided, figures)
            inside = Reason(_("the effect is inside the spread: %(values)s"), values=values)
            return Judgement("undecided", inside)
        return _judge(supported, refuted, figures)
    except TooFewRuns as exc:
        return Judgement("undecided", Reason(TOO_FEW_RUNS, n=exc.n))


def _judge(supported: Condition | None, refuted: Condition | None, figures: Figures) -> Judgement:
    is_supported = supported is not None and supported.holds(figures)
    is_refuted = refuted is not None and refuted.holds(figures)
    if is_supported and is_refuted:
        both = Reason(_("both the supported and the refuted conditions hold"))
        return Judgement("nuanced", both)
    if is_supported:
        return Judgement("supported")
    if is_refuted:
        return Judgement("refuted")
    return Judgement("nuanced")


Piece = str | tuple[str, str]  # literal text, or (field, format spec): "x", "mean(fp16.x)"


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
            raise TemplateError(_("a lone '}': write '}}' for a literal brace"))
        if char != "{":
            literal.append(char)
            i += 1
            continue
        end = template.find("}", i)
        body = _FIELD_BODY.fullmatch(template[i + 1 : end]) if end != -1 else None
        if body is None:
            shown = template[i : end + 1] if end != -1 else template[i:]
            problem = _("%(field)s is not a figure field: write {name} or {name:.3g}")
            raise TemplateError(problem, field=shown)
        spec = body.group("spec") or ""
        if not _SPEC.fullmatch(spec):
            shown, problem = template[i : end + 1], _("%(field)s: %(spec)r is not a number format")
            raise TemplateError(problem, field=shown, spec=spec)
        field = body.group("name") or f"{body.group('func')}({body.group('inner')})"
        pieces.extend(["".join(literal), (field, spec)])
        literal = []
        i = end + 1
    pieces.append("".join(literal))
    return [p for p in pieces if p != ""]


def _field_term(field: str) -> Term:
    if "(" in field:
        func, _, inner = field.partition("(")
        return Aggregated(func, Figure(inner.rstrip(")")))  # type: ignore[arg-type]
    return Figure(field)


def _field_name(field: str) -> str:
    return field.partition("(")[2].rstrip(")") if "(" in field else field


def template_fields(template: str) -> set[str]:
    """The figure names a template shows; :class:`TemplateError` for a malformed field."""
    return {_field_name(p[0]) for p in parse_template(template) if isinstance(p, tuple)}


def explain(template: str, figures: Figures) -> str:
    """``template`` with each field replaced by its value, formatted; a figure missing
    from ``figures`` (or an SD of one run) shows as ``?``."""
    ev = evidence_of(figures)
    out: list[str] = []
    for piece in parse_template(template):
        if isinstance(piece, str):
            out.append(piece)
            continue
        field, spec = piece
        try:
            value = _field_term(field).value_in(ev, None)
        except (MissingFigure, TooFewRuns):
            out.append("?")
            continue
        if field == "n" and value == int(value) and not spec:
            spec = ".0f"
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
    "VERDICTS",
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
