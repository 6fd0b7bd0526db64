"""The rank demo's parameters. No torch here."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator
from pydantic.config import JsonDict

from app.demos.base import DemoParams, at_most
from app.demos.text import N_

MAX_DIM = 512  # keeps the SVD and the k loop (≤ 513 rank-1 updates) well under 10 s of CPU


def _ui(group: str, label: str, unit: str | None = None) -> JsonDict:
    """The form's grouping, label and unit of a field (issue 16)."""
    return {"group": group, "label": label, "unit": unit}


class RankParams(DemoParams):
    m: int = Field(
        default=64,
        ge=2,
        le=MAX_DIM,
        description=N_("Rows of $A$"),
        json_schema_extra=_ui("model", N_("Rows $m$"), N_("rows")),
    )
    n: int = Field(
        default=48,
        ge=2,
        le=MAX_DIM,
        description=N_("Columns of $A$"),
        json_schema_extra=_ui("model", N_("Columns $n$"), N_("columns")),
    )
    r: int = Field(
        default=8,
        ge=1,
        le=MAX_DIM,
        description=N_(
            "Inner dimension of the factors $U$ ($m \\times r$) and $V$ ($r \\times n$); "
            "at most $\\min(m, n)$"
        ),
        json_schema_extra=_ui("method", N_("Rank of the factors $r$")),
    )
    noise: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        description=N_("Standard deviation of Gaussian noise added to every entry of $A$"),
        json_schema_extra=_ui("method", N_("Noise (std)")),
    )

    # A field validator (not a model validator) so that the error's location is "r".
    # m and n are declared first, so they are in info.data when they are valid.
    @field_validator("r")
    @classmethod
    def r_at_most_min_dim(cls, r: int, info: ValidationInfo) -> int:
        m, n = info.data.get("m"), info.data.get("n")
        if m is not None and n is not None and r > min(m, n):
            raise at_most("min(m, n)", min(m, n))
        return r
