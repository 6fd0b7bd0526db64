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
from app.demos.text import N_


def run(params: RankParams, ctx: RunContext) -> DemoResult:
    from app.demos.rank.model import measure

    return result_of(params, measure(params, ctx))


DEMO = Demo(
    name="rank",
    title=N_("Matrix rank and low-rank approximation"),
    summary=N_(
        "Builds an $m \\times n$ matrix $A = UV$ from random Gaussian factors $U$ "
        "($m \\times r$) and $V$ ($r \\times n$), optionally plus noise, and measures its rank "
        "and singular values. For each $k$ it forms the best rank-$k$ approximation $A_k$ "
        "from the truncated SVD and compares its error $\\|A - A_k\\|_F$ with the "
        "Eckart–Young theorem's prediction $\\sqrt{\\sum_{i>k} \\sigma_i^2}$. Without noise "
        "the rank is exactly $r$ and the error drops to zero at $k = r$; with noise the matrix "
        "becomes full rank, but the singular values past $r$ stay small."
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
    # Milliseconds of linear algebra: its progress is a count of k, not a curve to watch.
    live_chart=False,
    topics=("LoRA", "PEFT", "参数高效微调"),
)
