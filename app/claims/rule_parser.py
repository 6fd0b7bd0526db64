"""The parser of the rule language: a rule's text as a condition tree
(``app.claims.rules`` holds the grammar, the tree and its evaluation). A rule is parsed
once, at import; nothing is ever ``eval``-ed. A text that does not parse is a
:class:`RuleError` naming its column."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from app.claims.rules import (
    Abs,
    Aggregated,
    Arithmetic,
    Both,
    Comparison,
    Condition,
    Either,
    Figure,
    Negative,
    Not,
    Number,
    RuleError,
    Term,
)
from app.claims.spread import AGGREGATES
from app.content.model import Message, Value
from app.i18n import mark as N_

_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)?)"
    r"|(?P<op><=|>=|==|!=|\+-|[<>±()%*/+-])"
    r")"
)
_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
_KEYWORDS = {"and", "or", "not", "abs"}
_AGGREGATE_NAMES: set[str] = set(AGGREGATES)


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
            raise RuleError(N_("unexpected character %(char)r"), column, char=text[column - 1])
        kind = match.lastgroup
        tokens.append(_Token(kind, match.group(kind), match.start(kind) + 1))  # type: ignore[arg-type]
        pos = match.end()
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0
        self.in_aggregate = False

    @property
    def token(self) -> _Token:
        return self.tokens[self.i]

    def take(self, *texts: str) -> _Token | None:
        if self.token.kind in ("op", "name") and self.token.text in texts:
            self.i += 1
            return self.tokens[self.i - 1]
        return None

    def expect(self, text: str, what: Value) -> None:
        if self.take(text) is None:
            template = N_("expected %(what)s, %(found)s")
            raise RuleError(template, self.token.column, what=what, found=self._found())

    def _found(self) -> Message:
        """What stands where something else was expected (a whole phrase: Chinese says
        "the rule has ended" in other words than "found 'x'")."""
        if self.token.kind == "end":
            return Message(N_("found the end of the rule"))
        return Message(N_("found %(token)s"), {"token": repr(self.token.text)})

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
            template = N_("expected a comparison (< <= > >= == !=), %(found)s")
            raise RuleError(template, token.column, found=self._found())
        self.i += 1
        right = self.sum()
        tolerance, relative = 0.0, False
        if self.take("±", "+-"):
            number = self.token
            if number.kind != "number":
                template = N_("expected a tolerance number, %(found)s")
                raise RuleError(template, number.column, found=self._found())
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
            self.expect("(", Message(N_("'(' after abs")))
            node = self.sum()
            self.expect(")", "')'")
            return Abs(node)
        if self.take("("):
            node = self.sum()
            self.expect(")", "')'")
            return node
        if (
            token.kind == "name"
            and token.text in _AGGREGATE_NAMES
            and self.tokens[self.i + 1].text == "("
        ):
            if self.in_aggregate:
                template = N_("%(name)s() inside another aggregate")
                raise RuleError(template, token.column, name=token.text)
            self.i += 2
            self.in_aggregate = True
            try:
                node = self.sum()
            finally:
                self.in_aggregate = False
            self.expect(")", "')'")
            return Aggregated(token.text, node)  # type: ignore[arg-type]
        if token.kind == "number":
            self.i += 1
            return Number(float(token.text))
        if token.kind == "name" and token.text not in _KEYWORDS:
            self.i += 1
            return Figure(token.text)
        template = N_("expected a figure or a number, %(found)s")
        raise RuleError(template, token.column, found=self._found())


def parse_rule(text: str) -> Condition:
    """``text`` as a condition tree, or :class:`RuleError` naming the column."""
    if not text.strip():
        raise RuleError(N_("the rule is empty"), 1)
    parser = _Parser(text)
    node = parser.condition()
    if parser.token.kind != "end":
        template = N_("unexpected %(token)r after the rule")
        raise RuleError(template, parser.token.column, token=parser.token.text)
    return node
