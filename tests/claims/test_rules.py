"""The claim rule language: parsing, tolerances, missing figures, and the verdict and
explanation built from a run's figures."""

from __future__ import annotations

import math

import pytest

from app.claims.rule_parser import parse_rule
from app.claims.rules import MissingFigure, RuleError, figure_names
from app.claims.verdict import TemplateError, explain, judge, template_fields, used_figures

# Binary-exact values, so that tolerance edges are exact too.
FIGURES = {"a": 4.0, "b": 2.0, "c": 1.25, "zero": 0.0, "nan": math.nan}


@pytest.mark.parametrize(
    ("rule", "holds"),
    [
        ("a > b", True),
        ("a < b", False),
        ("a >= 4", True),
        ("a <= 3.999", False),
        ("a == 4", True),
        ("a != 4", False),
        ("a / b == 2", True),
        ("a - b * 2 == 0", True),  # * binds tighter than -
        ("(a - b) * 2 == 4", True),
        ("-a < 0", True),
        ("abs(b - a) == 2", True),
        ("a > 1e0 and b > 1.5e+0", True),
        ("a > 5 or b > 1", True),
        ("a > 5 or b > 1 and c > 2", False),  # and binds tighter than or
        ("(a > 5 or b > 1) and c > 1", True),
        ("not a > 5", True),
        ("not (a > 1 and b > 1)", False),
    ],
)
def test_rules_evaluate_like_arithmetic_and_logic(rule: str, holds: bool) -> None:
    assert parse_rule(rule).holds(FIGURES) is holds


@pytest.mark.parametrize(
    ("rule", "holds"),
    [
        ("c == 1 ± 0.25", True),  # |1.25 − 1| ≤ 0.25
        ("c == 1 ± 0.2", False),
        ("c == 1 +- 0.25", True),  # ASCII spelling
        ("c == 1 ± 25%", True),  # 25 % of |1|
        ("c == 1 ± 20%", False),
        ("c <= 1 ± 0.25", True),  # c ≤ 1 + 0.25
        ("c < 1 ± 0.25", False),  # strict: 1.25 < 1.25 is false
        ("b >= 2.25 ± 0.25", True),  # b ≥ 2.25 − 0.25
        ("b > 2.25 ± 0.25", False),
        ("c != 1 ± 0.2", True),
        ("c != 1 ± 0.25", False),
    ],
)
def test_tolerances_widen_the_comparison(rule: str, holds: bool) -> None:
    assert parse_rule(rule).holds(FIGURES) is holds


def test_relative_tolerance_is_taken_of_the_right_side() -> None:
    # |4 − 2| = 2: within 60 % of |4| = 2.4, but not within 60 % of |2| = 1.2.
    assert parse_rule("b == a ± 60%").holds(FIGURES)
    assert not parse_rule("a == b ± 60%").holds(FIGURES)


def test_a_missing_or_nan_figure_is_reported_not_guessed() -> None:
    with pytest.raises(MissingFigure) as missing:
        parse_rule("a > 1 and absent > 2").holds(FIGURES)
    assert missing.value.name == "absent"
    with pytest.raises(MissingFigure):
        parse_rule("nan > 0").holds(FIGURES)
    # Short-circuit: a figure never read is not needed.
    assert parse_rule("a > 1 or absent > 2").holds(FIGURES)


def test_division_by_zero_is_infinite_not_an_error() -> None:
    assert parse_rule("a / zero > 1e300").holds(FIGURES)
    assert not parse_rule("zero / zero == 0").holds(FIGURES)  # NaN compares false


@pytest.mark.parametrize(
    ("rule", "column", "words"),
    [
        ("", 1, "empty"),
        ("a >", 4, "figure or a number"),
        ("a b", 3, "comparison"),
        ("a > b ± x", 9, "tolerance number"),
        ("a $ b", 3, "unexpected character '$'"),
        ("a > 1 )", 7, "unexpected ')'"),
        ("(a > 1", 7, "expected ')'"),
        ("a > 1 and", 10, "figure or a number"),
        ("__import__('os') > 1", 12, 'unexpected character "\'"'),
        ("__import__ > 1 or open(x) > 1", 23, "comparison"),
        ("a.b.c > 1", 4, "unexpected character '.'"),
        ("a._b > 1", 2, "unexpected character '.'"),
        ("mean(sd(a)) > 1", 6, "inside another aggregate"),
    ],
)
def test_bad_rules_name_the_column(rule: str, column: int, words: str) -> None:
    with pytest.raises(RuleError) as error:
        parse_rule(rule)
    assert error.value.column == column
    assert words in str(error.value)


def test_figure_names_lists_every_figure_read() -> None:
    rule = parse_rule("abs(x - y) / z < 0.1 ± 5% or not (w >= 2 and x > 1)")
    assert figure_names(rule) == {"x", "y", "z", "w"}


def test_the_verdict_is_the_condition_that_holds() -> None:
    up, down = parse_rule("a > 3"), parse_rule("a < 2")
    assert judge(supported=up, refuted=down, figures={"a": 4}).verdict == "supported"
    assert judge(supported=up, refuted=down, figures={"a": 1}).verdict == "refuted"
    assert judge(supported=up, refuted=down, figures={"a": 2.5}).verdict == "nuanced"
    assert judge(supported=None, refuted=down, figures={"a": 4}).verdict == "nuanced"
    both = judge(supported=up, refuted=parse_rule("a > 0"), figures={"a": 4})
    assert both.verdict == "nuanced" and "both" in both.note


def test_explanations_show_figures_with_their_formats() -> None:
    text = explain(
        "NF4 {bits:.3g} bits ({ratio:.2f}× smaller); {{literal}} {missing}",
        {
            "bits": 4.127,
            "ratio": 3.8768,
        },
    )
    assert text == "NF4 4.13 bits (3.88× smaller); {literal} ?"
    assert explain("{n:,.0f} B", {"n": 13476831232.0}) == "13,476,831,232 B"


@pytest.mark.parametrize("template", ["{a.__class__}", "{a[0]}", "{0}", "{a:{b}}", "{a:!r}"])
def test_templates_allow_only_figure_names_and_number_formats(template: str) -> None:
    with pytest.raises(TemplateError):
        template_fields(template)


def test_used_figures_are_those_the_rules_and_explanation_read() -> None:
    rules = [parse_rule("a > b"), None]
    assert used_figures(rules, "c is {c:.2f}", FIGURES) == {"a": 4.0, "b": 2.0, "c": 1.25}
