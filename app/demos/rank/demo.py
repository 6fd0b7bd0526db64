"""Matrix rank and low-rank approximation: the first demo, small enough to prove the
engine end to end.

The story: build A = U V from Gaussian factors U (m×r) and V (r×n), so rank(A) ≤ r,
optionally add noise; measure rank(A) and the singular values; then, for each k, build
the best rank-k approximation A_k from the truncated SVD and compare ‖A − A_k‖_F with
Eckart–Young's prediction √(Σ_{i>k} σ_i²).

torch is imported inside ``run`` (the torch code lives in ``model``): the web process
imports this module for the catalogue and must not load torch.
"""

from __future__ import annotations

from app.demos.base import Demo, DemoResult, RunContext
from app.demos.rank.params import RankParams
from app.demos.rank.report import figure_names, result_of


def run(params: RankParams, ctx: RunContext) -> DemoResult:
    from app.demos.rank.model import measure

    return result_of(params, measure(params, ctx))


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
