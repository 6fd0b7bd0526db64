"""The runs behind a claim as rules see them, and the spread of a figure across them.

A claim over several seeds (and named settings) has one *row* of figures per seed: the
figures of a run without settings under their own names (``loss``), those of a setting's
run prefixed by the setting (``fp16.loss``). Rules aggregate over the rows
(``mean(loss)``, ``sd(fp16.loss - bf16.loss)``: settings are paired by seed).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from app.claims.reasons import TOO_FEW_RUNS

Aggregate = Literal["mean", "sd", "min", "max"]
AGGREGATES: tuple[Aggregate, ...] = ("mean", "sd", "min", "max")


class TooFewRuns(ArithmeticError):
    """A spread asked of fewer than two runs: the check can't be decided."""

    def __init__(self, n: int) -> None:
        super().__init__(TOO_FEW_RUNS % {"n": n})
        self.n = n


@dataclass(frozen=True)
class Evidence:
    """One row of figures per seed (a single row for a claim of one run)."""

    rows: tuple[Mapping[str, Any], ...]
    # The runs behind the rows, in seed order: under "" without settings, else per setting.
    run_ids: Mapping[str, Sequence[int]] = field(default_factory=dict)
    # Each figure's label as its demo stored it (a ``Text`` as JSON), where it has one.
    labels: Mapping[str, Any] = field(default_factory=dict)
    # Each figure's unit as its demo declared it (``figure_units``: "ratio", "us", ...).
    units: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def single(cls, figures: Mapping[str, Any]) -> Evidence:
        return cls((figures,))

    @property
    def n(self) -> int:
        return len(self.rows)


def aggregate(func: Aggregate, values: Sequence[float]) -> float:
    """``func`` over ``values``; :class:`TooFewRuns` for an SD of fewer than two."""
    if func == "sd":
        if len(values) < 2:
            raise TooFewRuns(len(values))
        return statistics.stdev(values)
    if not values:
        return math.nan
    match func:
        case "mean":
            return statistics.fmean(values)
        case "min":
            return min(values)
        case "max":
            return max(values)
    raise ValueError(func)  # pragma: no cover


@dataclass(frozen=True)
class Spread:
    """One figure across the runs: its value in each, and their summary."""

    name: str
    values: list[float]
    run_ids: list[int]
    mean: float
    sd: float | None  # None with a single run
    min: float
    max: float
    label: Any = None  # the demo's label of the figure (a ``Text`` as JSON), if any
    unit: str | None = None  # the demo's unit of the figure (``figure_units``), if any

    @property
    def n(self) -> int:
        return len(self.values)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "values": self.values,
            "run_ids": self.run_ids,
            "mean": self.mean,
            "sd": self.sd,
            "min": self.min,
            "max": self.max,
            "n": self.n,
        }


def spread_of(name: str, evidence: Evidence) -> Spread | None:
    """``name`` across ``evidence``'s rows; None when a row lacks it (or holds NaN)."""
    values: list[float] = []
    for row in evidence.rows:
        value = row.get(name)
        if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
            return None
        values.append(float(value))
    if not values:
        return None
    setting = name.split(".", 1)[0] if "." in name else ""
    return Spread(
        name=name,
        values=values,
        run_ids=list(evidence.run_ids.get(setting, ())),
        mean=statistics.fmean(values),
        sd=statistics.stdev(values) if len(values) > 1 else None,
        min=min(values),
        max=max(values),
        label=evidence.labels.get(name),
        unit=evidence.units.get(name),
    )
