"""The plan toward the nearest interviews as ``_plan.html`` shows it (on the home page and
on ``/interviews``): its own module, so the home page renders it without importing the
interviews' routes (``app.web.plan_pages``), which load after the first page."""

from __future__ import annotations

from typing import Any

from app.content.filters import QuestionFilter
from app.study.plan import Overview, Plan
from app.web.templating import filter_url


def review_filter(plan: Plan) -> QuestionFilter:
    """The review filter for the interview's own questions: the company at that stage,
    or the company alone when the bank has none at that stage."""
    target = plan.target
    if target.stage and plan.tier_counts[0] > 0:
        return QuestionFilter(company=(target.company,), stage=(target.stage,))
    return QuestionFilter(company=(target.company,))


def plan_context(overview: Overview | None) -> dict[str, Any]:
    """What ``_plan.html`` needs (the home page and ``/interviews`` show it): the
    overview and, per interview, its name and the review link of its questions."""
    if overview is None:
        return {"overview": None, "plan_items": [], "plan_names": {}}
    items = []
    for plan in overview.plans:
        flt = review_filter(plan)
        target = plan.target
        items.append(
            {
                "plan": plan,
                "name": target.company + (f" {target.stage}" if target.stage else ""),
                "review_url": filter_url("/review", flt),
                "review_stage": flt.stage[0] if flt.stage else None,
            }
        )
    names = {
        p.target.interview_id: item["name"] for p, item in zip(overview.plans, items, strict=True)
    }
    return {"overview": overview, "plan_items": items, "plan_names": names}
