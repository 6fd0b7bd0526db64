"""The rank demo's report: figures, checks, charts and conclusion from the measured
rank, singular values and approximation errors. No torch here."""

from __future__ import annotations

from dataclasses import dataclass

from app.demos.base import Check, DemoResult, Series
from app.demos.rank.params import RankParams


@dataclass(frozen=True)
class Measured:
    rank: int
    sigmas: list[float]  # descending, min(m, n) of them
    errors: list[float]  # ‖A − A_k‖_F for k = 0 .. min(m, n)
    tail: list[float]  # √(Σ_{i>k} σ_i²) for k = 0 .. min(m, n) (Eckart–Young)
    norm_A: float  # ‖A‖_F

    @property
    def max_gap(self) -> float:
        # Relative to ‖A‖_F: near full rank both sides are rounding noise (~1e-14 ‖A‖_F), so
        # a gap relative to themselves would be meaningless there.
        gaps = [abs(e - t) / self.norm_A for e, t in zip(self.errors, self.tail, strict=True)]
        return max(gaps)


def figures_of(p: RankParams, m: Measured) -> dict[str, float]:
    min_dim = min(p.m, p.n)
    return {
        "rank": float(m.rank),
        "min_dim": float(min_dim),
        "r": float(p.r),
        "sigma_1": m.sigmas[0],
        "sigma_r": m.sigmas[p.r - 1],
        "sigma_r_plus_1": m.sigmas[p.r] if p.r < min_dim else 0.0,
        "error_rank_r": m.errors[p.r] / m.norm_A,
        "max_eckart_young_gap": m.max_gap,
    }


def checks_of(p: RankParams, m: Measured) -> list[Check]:
    rank, min_dim, max_gap = m.rank, min(p.m, p.n), m.max_gap
    checks = [
        Check(
            name="rank ≤ min(m, n)",
            passed=rank <= min_dim,
            detail=f"rank {rank}, min({p.m}, {p.n}) = {min_dim}",
        ),
        Check(
            name="Eckart–Young: ‖A − A_k‖_F = √(Σ_{i>k} σ_i²) for every k",
            passed=max_gap < 1e-8,
            detail=f"largest gap {max_gap:.2e} of ‖A‖_F (tolerance 1e-8)",
        ),
    ]
    if p.noise == 0:
        checks += [
            Check(
                name="rank(UV) ≤ r",
                passed=rank <= p.r,
                detail=f"rank {rank}, r = {p.r}",
            ),
            Check(
                # Gaussian factors are full rank with probability 1, so equality holds.
                name="rank(UV) = r for Gaussian factors",
                passed=rank == p.r,
                detail=f"rank {rank}, r = {p.r}",
            ),
        ]

    return checks


def series_of(p: RankParams, m: Measured) -> list[Series]:
    min_dim, sigmas, errors, tail = min(p.m, p.n), m.sigmas, m.errors, m.tail
    ks = [float(k) for k in range(min_dim + 1)]
    series = [
        Series(
            name="singular values σ_i",
            x=[float(i) for i in range(1, min_dim + 1)],
            y=sigmas,
            kind="bar",
            x_label="i",
            y_label="σ_i",
            # Log scale shows the cliff after σ_r; it cannot draw an exact zero.
            log_y=min(sigmas) > 0,
            chart="singular_values",
        ),
        Series(
            name="‖A − A_k‖_F (truncated SVD)",
            x=ks,
            y=errors,
            x_label="k",
            y_label="Frobenius error",
            chart="approximation_error",
        ),
        Series(
            name="√(Σ_{i>k} σ_i²) (Eckart–Young)",
            x=ks,
            y=tail,
            kind="scatter",
            x_label="k",
            y_label="Frobenius error",
            chart="approximation_error",
        ),
    ]

    return series


def conclusion_of(p: RankParams, m: Measured) -> str:
    rank, min_dim, max_gap = m.rank, min(p.m, p.n), m.max_gap
    error_rank_r = m.errors[p.r] / m.norm_A
    source = f"A {p.m}×{p.n} product of rank-{p.r} factors"
    if p.noise == 0:
        first = f"{source} has rank {rank} (r = {p.r})."
    else:
        first = (
            f"{source} plus noise of std {p.noise:g} has rank {rank} (min(m, n) = {min_dim}), "
            f"yet its best rank-{p.r} approximation leaves only {error_rank_r:.3g} of ‖A‖_F."
        )
    conclusion = (
        f"{first} The best rank-k error ‖A − A_k‖_F equals the tail of the singular values "
        f"√(Σ_{{i>k}} σ_i²) at every k to within {max_gap:.1e} of ‖A‖_F (Eckart–Young)."
    )
    return conclusion


def result_of(p: RankParams, m: Measured) -> DemoResult:
    return DemoResult(
        figures=figures_of(p, m),
        series=series_of(p, m),
        checks=checks_of(p, m),
        conclusion=conclusion_of(p, m),
    )


FIGURES = (
    "rank",
    "min_dim",
    "r",
    "sigma_1",
    "sigma_r",
    "sigma_r_plus_1",
    "error_rank_r",
    "max_eckart_young_gap",
)


def figure_names(params: RankParams) -> tuple[str, ...]:
    return FIGURES
