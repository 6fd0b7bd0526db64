"""The stats page's figures as its template shows them: every string made here, once per
request (labels translated, links built, numbers formatted), so the template only places
them. Through template calls (a translation, a filter or a link builder per cell and per
day: about 3,600 calls for the 118 cells and 371 days of the pages bench) the page spent
most of its rendering time in Jinja's call machinery.

The strings are the ones the template made before, character for character: plain text,
escaped where the template places them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from app.content.filters import QuestionFilter
from app.i18n import gettext as _
from app.i18n import ngettext
from app.study import stats
from app.study.coverage import Cell, Matrix
from app.web.templating import filter_url

HEAT_LEVELS = 4


def heat_level(reviews: int, peak: int) -> int:
    """0 for no reviews, else 1-4 in proportion to the busiest day."""
    return 0 if reviews == 0 else max(1, math.ceil(HEAT_LEVELS * reviews / max(peak, 1)))


def heat_label(day: stats.DayActivity) -> str:
    """A heatmap day's title: "2026-03-02: 5 reviews"."""
    reviews = ngettext("%(num)d review", "%(num)d reviews", day.reviews) % {"num": day.reviews}
    return f"{day.day.isoformat()}: {reviews}"


def pct(value: float | None) -> str:
    """A share as a percentage with one decimal ("–" for none)."""
    return "–" if value is None else f"{value * 100:.1f}%"


@dataclass(frozen=True)
class DayView:
    """A day of the activity heatmap and its tables."""

    day: str  # ISO date
    level: int
    reviews: int
    label: str
    minutes: str  # answer time, one decimal


def day_views(days: list[stats.DayActivity]) -> list[DayView]:
    peak = max((d.reviews for d in days), default=0)
    return [
        DayView(
            d.day.isoformat(),
            heat_level(d.reviews, peak),
            d.reviews,
            heat_label(d),
            f"{d.seconds / 60:.1f}",
        )
        for d in days
    ]


def cell_filter(facet: str, cell: Cell) -> QuestionFilter:
    """The filter whose questions are exactly the cell's."""
    if facet == "stage":
        return QuestionFilter(stage=(cell.row,), tag=(cell.column,))
    return QuestionFilter(company=(cell.row,), tag=(cell.column,))


@lru_cache(maxsize=4096)
def _cell_links(facet: str, row: str, column: str) -> tuple[str, str, str]:
    """A cell's review, practise and quiz links: they depend on the names alone, which
    stay while the bank does."""
    flt = cell_filter(facet, Cell(row, column, 0, 0, 0.0, 0))
    return (
        filter_url("/review", flt),
        filter_url("/review", flt, ahead=1, new=1),
        filter_url("/quizzes", flt),
    )


@dataclass(frozen=True)
class CellView:
    """A coverage cell: its figures, links and labels as the page shows them."""

    step: int
    row: str
    column: str
    recall: str  # four decimals (data-recall)
    questions: int
    reviewed: int
    percent: int  # whole percent, rounded as Jinja's ``round`` does
    label: str
    review_href: str
    practise_href: str
    quiz_href: str
    review_label: str
    practise_label: str
    quiz_label: str


@dataclass(frozen=True)
class MatrixView:
    facet: str
    rows: list[str]
    columns: list[str]
    cells: list[list[CellView | None]]
    rows_left_out: int
    columns_left_out: int


def matrix_view(matrix: Matrix) -> MatrixView:
    review, practise, quiz = _("Review"), _("Practise these now"), _("Quiz")

    def view(cell: Cell) -> CellView:
        label = ngettext(
            "%(row)s × %(topic)s: mean recall %(recall)s, %(reviewed)d of %(num)d "
            "question reviewed",
            "%(row)s × %(topic)s: mean recall %(recall)s, %(reviewed)d of %(num)d "
            "questions reviewed",
            cell.questions,
        ) % {
            "row": cell.row,
            "topic": cell.column,
            "recall": pct(cell.recall),
            "reviewed": cell.reviewed,
            "num": cell.questions,
        }
        review_href, practise_href, quiz_href = _cell_links(matrix.facet, cell.row, cell.column)
        names = f"{cell.row} × {cell.column}"
        return CellView(
            step=cell.step,
            row=cell.row,
            column=cell.column,
            recall=f"{cell.recall:.4f}",
            questions=cell.questions,
            reviewed=cell.reviewed,
            percent=int(round(cell.recall * 100, 0)),
            label=label,
            review_href=review_href,
            practise_href=practise_href,
            quiz_href=quiz_href,
            review_label=f"{review}: {label}",
            practise_label=f"{practise}: {names}",
            quiz_label=f"{quiz}: {names}",
        )

    return MatrixView(
        facet=matrix.facet,
        rows=matrix.rows,
        columns=matrix.columns,
        cells=[[None if c is None else view(c) for c in line] for line in matrix.cells],
        rows_left_out=matrix.rows_left_out,
        columns_left_out=matrix.columns_left_out,
    )
