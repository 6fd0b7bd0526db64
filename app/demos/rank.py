"""Matrix rank and low-rank approximation: the first demo, small enough to prove the
engine end to end.

The story: build A = U V from Gaussian factors U (m×r) and V (r×n), so rank(A) ≤ r,
optionally add noise; measure rank(A) and the singular values; then, for each k, build
the best rank-k approximation A_k from the truncated SVD and compare ‖A − A_k‖_F with
Eckart–Young's prediction √(Σ_{i>k} σ_i²).

torch is imported inside the functions: the web process imports this module for the
catalogue and must not load torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, ValidationInfo, field_validator

from app.demos.base import Check, Demo, DemoParams, DemoResult, RunContext, Series

if TYPE_CHECKING:
    import torch

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


def low_rank_matrix(p: RankParams, generator: torch.Generator, device: str) -> torch.Tensor:
    """A = U V (+ noise), in float64 so that rank r is exact up to rounding."""
    import torch

    U = torch.randn(p.m, p.r, generator=generator, device=device, dtype=torch.float64)
    V = torch.randn(p.r, p.n, generator=generator, device=device, dtype=torch.float64)
    A = U @ V  # (m, n)
    if p.noise > 0:
        A = A + p.noise * torch.randn(
            p.m, p.n, generator=generator, device=device, dtype=torch.float64
        )
    return A


def run(params: RankParams, ctx: RunContext) -> DemoResult:
    import torch

    p = params
    min_dim = min(p.m, p.n)
    total = 3 + (min_dim + 1)  # build, rank, SVD, then k = 0 .. min_dim
    generator = torch.Generator(device=ctx.device).manual_seed(p.seed)

    A = low_rank_matrix(p, generator, ctx.device)  # (m, n)
    ctx.progress(1, total)

    rank = int(torch.linalg.matrix_rank(A).item())
    ctx.progress(2, total, rank=rank)

    # svdvals and svd are computed separately on purpose: Eckart–Young's tail uses the
    # former, the approximations A_k the latter, so their agreement is a real check.
    sigma = torch.linalg.svdvals(A)  # (min_dim,), descending
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)  # (m, min_dim), (min_dim,), (min_dim, n)
    ctx.progress(3, total, sigma_1=sigma[0].item())

    norm_A = torch.linalg.matrix_norm(A).item()  # ‖A‖_F = error of the best rank-0 approx
    # tail[k] = √(Σ_{i≥k} σ_i²) with 0-based i: the sum runs from the right, tail[min_dim] = 0.
    squared_tail = torch.cat([sigma.square().flip(0).cumsum(0).flip(0), sigma.new_zeros(1)])
    eckart_young = squared_tail.sqrt()  # (min_dim + 1,)

    A_k = torch.zeros_like(A)  # (m, n), the best rank-k approximation, grown one term per k
    errors: list[float] = []
    for k in range(min_dim + 1):
        if k > 0:
            # A_k = A_{k-1} + σ_k u_k v_kᵀ: the truncated SVD one rank-1 term at a time,
            # O(mn) per k instead of rebuilding U_k S_k V_kᵀ from scratch.
            A_k += S[k - 1] * torch.outer(U[:, k - 1], Vh[k - 1])  # (m, n)
        errors.append(torch.linalg.matrix_norm(A - A_k).item())
        ctx.progress(4 + k, total, k=k, error=errors[-1], eckart_young=eckart_young[k].item())

    tail = eckart_young.tolist()
    # Relative to ‖A‖_F: near full rank both sides are rounding noise (~1e-14 ‖A‖_F), so
    # a gap relative to themselves would be meaningless there.
    gaps = [abs(err - ey) / norm_A for err, ey in zip(errors, tail, strict=True)]
    max_gap = max(gaps)
    sigmas = sigma.tolist()
    sigma_r = sigmas[p.r - 1]
    sigma_r_plus_1 = sigmas[p.r] if p.r < min_dim else 0.0
    error_rank_r = errors[p.r] / norm_A

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
    return DemoResult(
        figures={
            "rank": float(rank),
            "min_dim": float(min_dim),
            "r": float(p.r),
            "sigma_1": sigmas[0],
            "sigma_r": sigma_r,
            "sigma_r_plus_1": sigma_r_plus_1,
            "error_rank_r": error_rank_r,
            "max_eckart_young_gap": max_gap,
        },
        series=series,
        checks=checks,
        conclusion=conclusion,
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


DEMO = Demo(
    name="rank",
    title="Matrix rank and low-rank approximation",
    summary=(
        "Builds an m×n matrix A as the product of random Gaussian factors U (m×r) and "
        "V (r×n), optionally plus noise, and measures its rank and singular values. For "
        "each k it forms the best rank-k approximation A_k from the truncated SVD and "
        "compares its error ‖A − A_k‖_F with the Eckart–Young theorem's prediction, the "
        "root of the sum of the squared singular values past k. Without noise the rank is "
        "exactly r and the error drops to zero at k = r; with noise the matrix becomes full "
        "rank, but the singular values past r stay small."
    ),
    claims=(
        "rank(A) ≤ min(m, n)",
        "rank(AB) ≤ min(rank(A), rank(B)): a product of rank-r factors has rank at most r",
        "The best rank-k approximation in Frobenius norm is the truncated SVD, with error "
        "√(Σ_{i>k} σ_i²) (Eckart–Young)",
        "Adding noise to a low-rank matrix makes it full rank, but it stays close to low rank",
    ),
    params=RankParams,
    run=run,
    time_limit_s=60.0,
    figure_names=figure_names,
)
