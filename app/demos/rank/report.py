"""The rank demo's report: figures, checks, charts and conclusion from the measured
rank, singular values and approximation errors. No torch here."""

from __future__ import annotations

from dataclasses import dataclass

from app.demos.base import Check, DemoResult, Series
from app.demos.rank.params import RankParams
from app.demos.text import Cell, Table, Text, Unit, q, t


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
            name=t(r"$\mathrm{rank}(A) \le \min(m, n)$"),
            passed=rank <= min_dim,
            detail=t(r"rank %(rank)s; $\min(m, n)$ = %(min_dim)s", rank=rank, min_dim=min_dim),
        ),
        Check(
            name=t(r"Eckart–Young: $\|A - A_k\|_F = \sqrt{\sum_{i>k} \sigma_i^2}$ for every $k$"),
            passed=max_gap < 1e-8,
            detail=t(
                r"largest gap %(gap)s $\|A\|_F$ (tolerance %(tol)s $\|A\|_F$)",
                gap=q(max_gap, "plain"),
                tol=q(1e-8, "plain"),
            ),
        ),
    ]
    if p.noise == 0:
        detail = t("rank %(rank)s, $r$ = %(r)s", rank=rank, r=p.r)
        checks += [
            Check(name=t(r"$\mathrm{rank}(UV) \le r$"), passed=rank <= p.r, detail=detail),
            # Gaussian factors are full rank with probability 1, so equality holds.
            Check(
                name=t(r"$\mathrm{rank}(UV) = r$ for Gaussian factors"),
                passed=rank == p.r,
                detail=detail,
            ),
        ]
    return checks


def _error_series(name: Text, ks: list[float], y: list[float], kind: str) -> Series:
    """One line of the approximation-error chart (error against the rank k kept)."""
    return Series(
        name=name,
        x=ks,
        y=y,
        kind="scatter" if kind == "scatter" else "line",
        x_label=t("rank k of the approximation"),
        y_label=t("Frobenius error"),
        chart="approximation_error",
        unit="plain",
    )


def series_of(p: RankParams, m: Measured) -> list[Series]:
    min_dim, sigmas, errors, tail = min(p.m, p.n), m.sigmas, m.errors, m.tail
    ks = [float(k) for k in range(min_dim + 1)]
    return [
        Series(
            name=t("singular values"),
            x=[float(i) for i in range(1, min_dim + 1)],
            y=sigmas,
            kind="bar",
            x_label=t("index i (largest first)"),
            y_label=t("singular value"),
            # Log scale shows the cliff after σ_r; it cannot draw an exact zero.
            log_y=min(sigmas) > 0,
            chart="singular_values",
            unit="plain",
        ),
        _error_series(t("error of the truncated SVD"), ks, errors, "line"),
        _error_series(t("Eckart–Young prediction"), ks, tail, "scatter"),
    ]


def headline_of(p: RankParams, m: Measured) -> Text:
    error_rank_r = q(m.errors[p.r] / m.norm_A, "ratio")
    if p.noise == 0:
        return t(
            "A %(m)s × %(n)s matrix built from rank-%(r)s factors has rank %(rank)s: its best "
            r"rank-%(r)s approximation (the truncated SVD) is exact, and at every $k$ the error "
            r"$\|A - A_k\|_F$ equals the singular values' tail $\sqrt{\sum_{i>k} \sigma_i^2}$ "
            "(Eckart–Young).",
            m=p.m, n=p.n, r=p.r, rank=m.rank,
        )  # fmt: skip
    return t(
        "A %(m)s × %(n)s product of rank-%(r)s factors plus noise of std %(noise)s has rank "
        "%(rank)s (of at most %(min_dim)s), yet its best rank-%(r)s approximation leaves only "
        r"%(error)s of $\|A\|_F$: noise makes a matrix full rank, not far from low rank.",
        m=p.m, n=p.n, r=p.r, noise=q(p.noise, "plain"), rank=m.rank,
        min_dim=min(p.m, p.n), error=error_rank_r,
    )  # fmt: skip


def summary_of(p: RankParams, m: Measured) -> Table:
    f = figures_of(p, m)
    rows: list[list[Cell]] = [
        [t(r"rank of $A$"), q(f["rank"], "count")],
        [t(r"largest possible rank, $\min(m, n)$"), q(f["min_dim"], "count")],
        [t(r"largest singular value $\sigma_1$"), q(f["sigma_1"], "plain")],
        [t(r"$\sigma_r$, the last one the factors allow"), q(f["sigma_r"], "plain")],
        [t(r"$\sigma_{r+1}$, the first past them"), q(f["sigma_r_plus_1"], "plain")],
        [t(r"error of the best rank-$r$ approximation, of $\|A\|_F$"),
         q(f["error_rank_r"], "ratio")],
        [t(r"largest gap to Eckart–Young, of $\|A\|_F$"),
         q(f["max_eckart_young_gap"], "ratio")],
    ]  # fmt: skip
    return Table(columns=[t("Quantity"), t("Value")], rows=rows)


def conclusion_of(p: RankParams, m: Measured) -> Text:
    min_dim = min(p.m, p.n)
    if p.noise == 0:
        first = t(
            "A %(m)s × %(n)s product of rank-%(r)s factors has rank %(rank)s ($r$ = %(r)s).",
            m=p.m, n=p.n, r=p.r, rank=m.rank,
        )  # fmt: skip
    else:
        first = t(
            "A %(m)s × %(n)s product of rank-%(r)s factors plus noise of std %(noise)s has "
            "rank %(rank)s ($\\min(m, n)$ = %(min_dim)s), yet its best rank-%(r)s "
            r"approximation leaves only %(error)s of $\|A\|_F$.",
            m=p.m, n=p.n, r=p.r, noise=q(p.noise, "plain"), rank=m.rank, min_dim=min_dim,
            error=q(m.errors[p.r] / m.norm_A, "ratio"),
        )  # fmt: skip
    return t(
        r"%(first)s The best rank-$k$ error $\|A - A_k\|_F$ equals the tail of the singular "
        r"values $\sqrt{\sum_{i>k} \sigma_i^2}$ at every $k$ to within %(gap)s "
        r"$\|A\|_F$ (Eckart–Young).",
        first=first,
        gap=q(m.max_gap, "plain"),
    )


FIGURE_UNITS: dict[str, Unit] = {
    "rank": "count",
    "min_dim": "count",
    "r": "count",
    "sigma_1": "plain",
    "sigma_r": "plain",
    "sigma_r_plus_1": "plain",
    "error_rank_r": "ratio",
    "max_eckart_young_gap": "ratio",
}


def figure_labels() -> dict[str, Text]:
    return {
        "rank": t(r"rank of $A$"),
        "min_dim": t(r"$\min(m, n)$"),
        "r": t(r"rank of the factors $r$"),
        "sigma_1": t(r"largest singular value $\sigma_1$"),
        "sigma_r": t(r"singular value $\sigma_r$"),
        "sigma_r_plus_1": t(r"singular value $\sigma_{r+1}$ (0 when $r = \min(m, n)$)"),
        "error_rank_r": t(r"error of the best rank-$r$ approximation, of $\|A\|_F$"),
        "max_eckart_young_gap": t(r"largest gap to Eckart–Young over $k$, of $\|A\|_F$"),
    }


def result_of(p: RankParams, m: Measured) -> DemoResult:
    return DemoResult(
        figures=figures_of(p, m),
        series=series_of(p, m),
        checks=checks_of(p, m),
        conclusion=conclusion_of(p, m),
        headline=headline_of(p, m),
        summary=summary_of(p, m),
        figure_units=FIGURE_UNITS,
        figure_labels=figure_labels(),
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
