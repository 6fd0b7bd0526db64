"""The rule language of claims: a small, safe condition over a run's named figures.

A claim file says when its claim is supported and when refuted, as conditions like

    compression_vs_fp16 >= 3.9
    trainable_lora < trainable_adapter_houlsby and trainable_pct_lora < 1
    latency_ratio_lora_merged == 1 ± 10%
    weights_gb_fp16 == 14 ± 1.5

Grammar (``and`` binds tighter than ``or``; arithmetic has the usual precedence)::

    condition  := conjunct ("or" conjunct)*
    conjunct   := negation ("and" negation)*
    negation   := "not" negation | "(" condition ")" | comparison
    comparison := sum OP sum [("±" | "+-") NUMBER ["%"]]     OP: < <= > >= == !=
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" unary | "(" sum ")" | NUMBER | FIGURE | "abs" "(" sum ")"
                | AGG "(" sum ")"                          AGG: mean sd min max
    FIGURE     := name | setting "." name                  ("n": the number of seeds)

A claim may stand on several runs (``app.claims.spread.Evidence``: one row of figures per
seed, a setting's figures prefixed by its name). An aggregate evaluates its term in each
row and returns the mean, the sample SD (n − 1; :class:`TooFewRuns` under two runs), the
min or the max; a figure outside an aggregate is its mean over the rows (its value, with
one run). Aggregates don't nest.

A tolerance widens a comparison: ``a == b ± t`` holds when |a − b| ≤ t, ``a <= b ± t``
when a ≤ b + t, ``a >= b ± t`` when a ≥ b − t (``%`` makes t relative to |b|). The rule
is parsed into a tree once, at import (``app.claims.rule_parser``); nothing is ever
``eval``-ed. Evaluating against
figures that lack a name (or hold NaN) raises :class:`MissingFigure`; an SD of fewer than
two runs raises :class:`TooFewRuns` (the check is then undecided).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from app.claims.spread import Aggregate, Evidence, TooFewRuns, aggregate
from app.content.model import Message, Value
from app.i18n import mark as N_

Op = Literal["<", "<=", ">", ">=", "==", "!="]


class RuleError(ValueError):
    """A rule that does not parse; ``column`` is 1-based within the rule's text. The
    problem is an English template marked ``N_`` and its values: ``str(exc)`` is English,
    ``message`` shows it in the reader's language (a claim file's diagnostic)."""

    def __init__(self, template: str, column: int, /, **values: Value) -> None:
        self.column = column
        self.message = Message(
            N_("%(problem)s (column %(column)d)"),
            {"problem": Message(template, values), "column": column},
        )
        super().__init__(self.message.english)


class MissingFigure(LookupError):
    """A figure the rule needs is absent from the run's figures, or not a number."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


Row = Mapping[str, Any]
Figures = Mapping[str, Any] | Evidence  # what a condition is evaluated against


def evidence_of(figures: Figures) -> Evidence:
    return figures if isinstance(figures, Evidence) else Evidence.single(figures)


def _number(row: Row, name: str, n: int) -> float:
    value = row.get(name)
    if value is None and name == "n":
        return float(n)  # the number of seeds, unless the demo has a figure "n"
    if not isinstance(value, int | float) or math.isnan(value):
        raise MissingFigure(name)
    return float(value)


# ---- the tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    value: float

    def value_in(self, ev: Evidence, row: Row | None) -> float:
        return self.value

    def __str__(self) -> str:
        return f"{self.value:g}"


@dataclass(frozen=True)
class Figure:
    name: str

    def value_in(self, ev: Evidence, row: Row | None) -> float:
        if row is not None:
            return _number(row, self.name, ev.n)
        return aggregate("mean", [_number(r, self.name, ev.n) for r in ev.rows])

    def __str__(self) -> str:
        return self.name


_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    # x / 0 is ±inf (or NaN for 0/0, which then compares false) rather than an error.
    "/": lambda a, b: a / b if b else math.copysign(math.inf, a) if a else math.nan,
}


@dataclass(frozen=True)
class Arithmetic:
    op: str
    left: Term
    right: Term

    def value_in(self, ev: Evidence, row: Row | None) -> float:
        return _ARITHMETIC[self.op](self.left.value_in(ev, row), self.right.value_in(ev, row))

    def __str__(self) -> str:
        return f"({self.left} {self.op} {self.right})"


@dataclass(frozen=True)
class Negative:
    operand: Term

    def value_in(self, ev: Evidence, row: Row | None) -> float:
        return -self.operand.value_in(ev, row)

    def __str__(self) -> str:
        return f"-{self.operand}"


@dataclass(frozen=True)
class Abs:
    operand: Term

    def value_in(self, ev: Evidence, row: Row | None) -> float:
        return abs(self.operand.value_in(ev, row))

    def __str__(self) -> str:
        return f"abs({self.operand})"


@dataclass(frozen=True)
class Aggregated:
    func: Aggregate
    operand: Term

    def value_in(self, ev: Evidence, row: Row | None) -> float:
        return aggregate(self.func, [self.operand.value_in(ev, r) for r in ev.rows])

    def __str__(self) -> str:
        return f"{self.func}({self.operand})"


Term = Number | Figure | Arithmetic | Negative | Abs | Aggregated


@dataclass(frozen=True)
class Comparison:
    op: Op
    left: Term
    right: Term
    tolerance: float = 0.0
    relative: bool = False  # the tolerance is a percentage of |right|

    def values(self, figures: Figures) -> tuple[float, float]:
        ev = evidence_of(figures)
        return self.left.value_in(ev, None), self.right.value_in(ev, None)

    def holds(self, figures: Figures) -> bool:
        a, b = self.values(figures)
        t = self.tolerance * abs(b) / 100 if self.relative else self.tolerance
        match self.op:
            case "<":
                return a < b + t
            case "<=":
                return a <= b + t
            case ">":
                return a > b - t
            case ">=":
                return a >= b - t
            case "==":
                return abs(a - b) <= t
            case "!=":
                return abs(a - b) > t

    def __str__(self) -> str:
        tol = f" ± {self.tolerance:g}{'%' if self.relative else ''}" if self.tolerance else ""
        return f"{self.left} {self.op} {self.right}{tol}"


@dataclass(frozen=True)
class Not:
    operand: Condition

    def holds(self, figures: Figures) -> bool:
        return not self.operand.holds(figures)

    def __str__(self) -> str:
        return f"not {self.operand}"


@dataclass(frozen=True)
class Both:
    left: Condition
    right: Condition

    def holds(self, figures: Figures) -> bool:
        return self.left.holds(figures) and self.right.holds(figures)

    def __str__(self) -> str:
        return f"({self.left} and {self.right})"


@dataclass(frozen=True)
class Either:
    left: Condition
    right: Condition

    def holds(self, figures: Figures) -> bool:
        return self.left.holds(figures) or self.right.holds(figures)

    def __str__(self) -> str:
        return f"({self.left} or {self.right})"


Condition = Comparison | Not | Both | Either


def figure_names(node: Condition | Term) -> set[str]:
    """Every figure a rule reads (the importer checks the demo produces each)."""
    match node:
        case Figure(name=name):
            return {name}
        case Number():
            return set()
        case Negative(operand=x) | Abs(operand=x) | Not(operand=x) | Aggregated(operand=x):
            return figure_names(x)
        case Arithmetic(left=a, right=b) | Comparison(left=a, right=b):
            return figure_names(a) | figure_names(b)
        case Both(left=a, right=b) | Either(left=a, right=b):
            return figure_names(a) | figure_names(b)
    raise TypeError(node)  # pragma: no cover - the match is exhaustive


def comparisons(node: Condition) -> list[Comparison]:
    """The comparisons of a condition, left to right (to show their values)."""
    match node:
        case Comparison():
            return [node]
        case Not(operand=x):
            return comparisons(x)
        case Both(left=a, right=b) | Either(left=a, right=b):
            return comparisons(a) + comparisons(b)
    raise TypeError(node)  # pragma: no cover


def shown_values(node: Condition, figures: Figures) -> str:
    """Each comparison of ``node`` with its two sides' values, e.g.
    ``abs(mean(gap)) = 0.012 < 2 * sd(gap) = 0.08``; a side that can't be computed shows ?."""
    out = []
    for c in comparisons(node):
        try:
            a, b = c.values(figures)
            out.append(f"{c.left} = {a:.3g} {c.op} {c.right} = {b:.3g}")
        except (MissingFigure, TooFewRuns):
            out.append(f"{c.left} {c.op} {c.right} (?)")
    return "; ".join(out)
