"""The torch side of the rank demo: a low-rank matrix, its rank and singular values,
and the truncated-SVD approximations A_k for every k. Imported inside ``demo.run``."""

from __future__ import annotations

import torch

from app.demos.base import RunContext
from app.demos.rank.params import RankParams
from app.demos.rank.report import Measured


def low_rank_matrix(p: RankParams, generator: torch.Generator, device: str) -> torch.Tensor:
    """A = U V (+ noise), in float64 so that rank r is exact up to rounding."""
    U = torch.randn(p.m, p.r, generator=generator, device=device, dtype=torch.float64)
    V = torch.randn(p.r, p.n, generator=generator, device=device, dtype=torch.float64)
    A = U @ V  # (m, n)
    if p.noise > 0:
        A = A + p.noise * torch.randn(
            p.m, p.n, generator=generator, device=device, dtype=torch.float64
        )
    return A


def measure(p: RankParams, ctx: RunContext) -> Measured:
    """Rank, singular values and the error of the best rank-k approximation for every k."""
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
    return Measured(
        rank=rank, sigmas=sigma.tolist(), errors=errors, tail=eckart_young.tolist(), norm_A=norm_A
    )
