"""Every demo declares the figures it returns (claims' rules are validated against the
declaration at import), and the declaration matches what a real run returns."""

from __future__ import annotations

from typing import Any

import pytest

from app.demos import registry
from app.demos.base import validate_params
from tests.demos.support import SMALL, small_context


def test_every_demo_is_covered() -> None:
    assert set(registry()) == set(SMALL)
    for demo in registry().values():
        assert demo.figure_names is not None, f"{demo.name} does not declare its figures"


@pytest.mark.parametrize(
    ("name", "raw"), [(name, raw) for name, cases in SMALL.items() for raw in cases]
)
def test_declared_figures_are_the_returned_ones(name: str, raw: dict[str, Any]) -> None:
    demo = registry()[name]
    assert demo.figure_names is not None
    params = validate_params(demo, raw)
    result = demo.run(params, small_context(demo))
    declared = list(demo.figure_names(params))
    assert len(declared) == len(set(declared)), "a figure is declared twice"
    assert set(declared) == set(result.figures)
