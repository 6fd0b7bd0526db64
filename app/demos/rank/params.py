"""The rank demo's parameters. No torch here."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from app.demos.base import DemoParams

MAX_DIM = 512  # keeps the SVD and the k loop (≤ 513 rank-1 updates) well under 10 s of CPU


class RankParams(DemoParams):
    m: int = Field(default=64, ge=2, le=MAX_DIM, description="Rows of A")
    n: int = Field(default=48, ge=2, le=MAX_DIM, description="Columns of A")
    r: int = Field(
        default=8,
        ge=1,
        le=MAX_DIM,
        description="Inner dimension of the factors U (m×r) and V (r×n); at most min(m, n)",
    )
    noise: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        description="Standard deviation of Gaussian noise added to every entry of A",
    )

    # A field validator (not a model validator) so that the error's location is "r".
    # m and n are declared first, so they are in info.data when they are valid.
    @field_validator("r")
    @classmethod
    def r_at_most_min_dim(cls, r: int, info: ValidationInfo) -> int:
        m, n = info.data.get("m"), info.data.get("n")
        if m is not None and n is not None and r > min(m, n):
            raise ValueError(f"must be at most min(m, n) = {min(m, n)}")
        return r
