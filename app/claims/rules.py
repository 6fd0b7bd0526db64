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

A tolerance widens a comparison: ``a == b ± t`` holds when |a − b| ≤ t, ``a <= b ± t``
when a ≤ b + t, ``a >= b ± t`` when a ≥ b − t (``%`` makes t relative to |b|). The rule
is parsed into a tree once, at import; nothing is ever ``eval``-ed. Evaluating against
figures that lack a name (or hold NaN) raises :class:`MissingFigure`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

Op = Literal["<", "<=", ">", ">=", "==", "!="]


class RuleError(ValueError):
    """A rule that does not parse; ``column`` is 1-based within the rule's text."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} (column {column})")
        self.column = column


class MissingFigure(LookupError):
    """A figure the rule needs is absent from the run's figures, or not a number."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


# ---- the tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    value: float

    def value_in(self, figures: Mapping[str, float]) -> float:
        return self.value

    def __str__(self) -> str:
        return f"{self.value:g}"


@dataclass(frozen=True)
class Figure:
    name: str

    def value_in(self, figures: Mapping[str, float]) -> float:
        value = figures.get(self.name)
        if value is None or not isinstance(value, int | float) or math.isnan(value):
            raise MissingFigure(self.name)
        return float(value)

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

    def value_in(self, figures: Mapping[str, float]) -> float:
        return _ARITHMETIC[self.op](self.left.value_in(figures), self.right.value_in(figures))

    def __str__(self) -> str:
        return f"({self.left} {self.op} {self.right})"


@dataclass(frozen=True)
class Negative:
    operand: Term

    def value_in(self, figures: Mapping[str, float]) -> float:
        return -self.operand.value_in(figures)

    def __str__(self) -> str:
        return f"-{self.operand}"


@dataclass(frozen=True)
class Abs:
    operand: Term

    def value_in(self, figures: Mapping[str, float]) -> float:
        return abs(self.operand.value_in(figures))

    def __str__(self) -> str:
        return f"abs({self.operand})"


Term = Number | Figure | Arithmetic | Negative | Abs


@dataclass(frozen=True)
class Comparison:
    op: Op
    left: Term
    right: Term
    tolerance: float = 0.0
    relative: bool = False  # the tolerance is a percentage of |right|

    def holds(self, figures: Mapping[str, float]) -> bool:
        a, b = self.left.value_in(figures), self.right.value_in(figures)
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

    def holds(self, figures: Mapping[str, float]) -> bool:
        return not self.operand.holds(figures)

    def __str__(self) -> str:
        return f"not {self.operand}"


@dataclass(frozen=True)
class Both:
    left: Condition
    right: Condition

    def holds(self, figures: Mapping[str, float]) -> bool:
        return self.left.holds(figures) and self.right.holds(figures)

    def __str__(self) -> str:
        return f"({self.left} and {self.right})"


@dataclass(frozen=True)
class Either:
    left: Condition
    right: Condition

    def holds(self, figures: Mapping[str, float]) -> bool:
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
        case Negative(operand=x) | Abs(operand=x) | Not(operand=x):
            return figure_names(x)
        case Arithmetic(left=a, right=b) | Comparison(left=a, right=b):
            return figure_names(a) | figure_names(b)
        case Both(left=a, right=b) | Either(left=a, right=b):
            return figure_names(a) | figure_names(b)
    raise TypeError(node)  # pragma: no cover - the match is exhaustive


# ---- the parser -----------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|==|!=|\+-|[<>±()%*/+-])"
    r")"
)
_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
_KEYWORDS = {"and", "or", "not", "abs"}


@dataclass(frozen=True)
class _Token:
    kind: Literal["number", "name", "op", "end"]
    text: str
    column: int


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.lastgroup is None:
            column = pos + len(text[pos:]) - len(text[pos:].lstrip()) + 1
            raise RuleError(f"unexpected character {text[column - 1]!r}", column)
        kind = match.lastgroup
        tokens.append(_Token(kind, match.group(kind), match.start(kind) + 1))  # type: ignore[arg-type]
        pos = match.end()
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.i]

    def take(self, *texts: str) -> _Token | None:
        if self.token.kind in ("op", "name") and self.token.text in texts:
            self.i += 1
            return self.tokens[self.i - 1]
        return None

    def expect(self, text: str, what: str) -> None:
        if self.take(text) is None:
            raise RuleError(f"expected {what}, found {self._found()}", self.token.column)

    def _found(self) -> str:
        return "the end of the rule" if self.token.kind == "end" else repr(self.token.text)

    def condition(self) -> Condition:
        node = self.conjunct()
        while self.take("or"):
            node = Either(node, self.conjunct())
        return node

    def conjunct(self) -> Condition:
        node = self.negation()
        while self.take("and"):
            node = Both(node, self.negation())
        return node

    def negation(self) -> Condition:
        if self.take("not"):
            return Not(self.negation())
        if self.token.text == "(":
            # "(" opens either a condition, "(a > 1 or b > 2)", or a term, "(a + b) / 2 > c":
            # try the condition first and fall back to a comparison that starts with a term.
            start, first_error = self.i, None
            try:
                self.i += 1
                node = self.condition()
                self.expect(")", "')'")
                if self.token.kind != "op" or self.token.text == ")":
                    return node
            except RuleError as exc:
                first_error = exc
            self.i = start
            try:
                return self.comparison()
            except RuleError as exc:
                # Report whichever reading got further into the rule.
                if first_error is not None and first_error.column > exc.column:
                    raise first_error from None
                raise
        return self.comparison()

    def comparison(self) -> Comparison:
        left = self.sum()
        token = self.token
        if token.kind != "op" or token.text not in _COMPARISONS:
            raise RuleError(
                f"expected a comparison (< <= > >= == !=), found {self._found()}", token.column
            )
        self.i += 1
        right = self.sum()
        tolerance, relative = 0.0, False
        if self.take("±", "+-"):
            number = self.token
            if number.kind != "number":
                raise RuleError(
                    f"expected a tolerance number, found {self._found()}", number.column
                )
            self.i += 1
            tolerance = float(number.text)
            relative = self.take("%") is not None
        return Comparison(token.text, left, right, tolerance, relative)  # type: ignore[arg-type]

    def sum(self) -> Term:
        node = self.product()
        while (op := self.take("+", "-")) is not None:
            node = Arithmetic(op.text, node, self.product())
        return node

    def product(self) -> Term:
        node = self.unary()
        while (op := self.take("*", "/")) is not None:
            node = Arithmetic(op.text, node, self.unary())
        return node

    def unary(self) -> Term:
        token = self.token
        if self.take("-"):
            return Negative(self.unary())
        if self.take("abs"):
            self.expect("(", "'(' after abs")
            node = self.sum()
            self.expect(")", "')'")
            return Abs(node)
        if self.take("("):
            node = self.sum()
            self.expect(")", "')'")
            return node
        if token.kind == "number":
            self.i += 1
            return Number(float(token.text))
        if token.kind == "name" and token.text not in _KEYWORDS:
            self.i += 1
            return Figure(token.text)
        raise RuleError(f"expected a figure or a number, found {self._found()}", token.column)


def parse_rule(text: str) -> Condition:
    """``text`` as a condition tree, or :class:`RuleError` naming the column."""
    if not text.strip():
        raise RuleError("the rule is empty", 1)
    parser = _Parser(text)
    node = parser.condition()
    if parser.token.kind != "end":
        raise RuleError(f"unexpected {parser._found()} after the rule", parser.token.column)
    return node
