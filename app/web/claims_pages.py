"""Claims in the browser: the claims page, and the marked-up answers that the question
page and the review card show (``answer_with_claims``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.claims.annotate import annotate, evidence_id
from app.claims.reasons import in_language, status_reason
from app.claims.service import ClaimView, claim_views
from app.claims.spread import Spread
from app.claims.verdict import STATUSES, Status
from app.content.render import render_inline
from app.i18n import current_language, gettext
from app.models import Claim, QuestionTag, Tag
from app.web import demo_text
from app.web.deps import SessionDep, TemplatesDep

router = APIRouter(include_in_schema=False)  # pages: the JSON is at /api/claims


def status_label(status: str) -> str:
    """A verdict (or why there is none) in the reader's language."""
    return in_language(status_reason(status), current_language())


def kind_label(kind: str) -> str:
    """How a verdict was reached, in the reader's language."""
    labels = {
        "measured": gettext("measured"),
        "definition": gettext("by definition"),
        "cited": gettext("cited"),
        "not-measurable-here": gettext("not measurable here"),
        "mixed": gettext("in parts"),
    }
    return labels.get(kind, kind)


def spread_parts(spread: Spread) -> list[str]:
    """``["0.42", "± 0.06", "over 5 runs"]`` (one run: the value alone), written as the
    run page writes the figure: in the unit its demo declares (``4.7 %``, ``± 0.31 %``
    for a ratio; ``13.5 GB``; ``341 万``), a figure without one as a number
    (``13,476,831,232``, not ``1.348e+10``). The page keeps each part on one line."""
    parts = demo_text.spread_parts(spread.mean, spread.sd, demo_text.as_unit(spread.unit))
    if spread.sd is None:
        return parts
    return [*parts, gettext("over %(n)s runs") % {"n": spread.n}]


def quote_html(quote: str) -> Markup:
    """A claim's quote rendered as inline markdown and math (sanitised by the renderer)."""
    return Markup(render_inline(quote))  # noqa: S704


def answer_with_claims(
    session: Session, question_id: str, answer_html: str
) -> tuple[Markup, list[ClaimView]]:
    """The answer with its claims marked, and the claims (for their evidence)."""
    views = claim_views(session=session, question_ids=[question_id])
    # The answer HTML was sanitised at import; the marks and badges are built escaped.
    return Markup(annotate(answer_html, views, status_label)), views  # noqa: S704


def claim_context(views: list[ClaimView]) -> dict[str, Any]:
    return {
        "claims": views,
        "status_label": status_label,
        "kind_label": kind_label,
        "spread_parts": spread_parts,
        "quote_html": quote_html,
        "evidence_id": evidence_id,
    }


@router.get("/claims", response_class=HTMLResponse)
def claims_page(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    verdict: Annotated[Status | None, Query()] = None,
    tag: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    views = claim_views(session=session, status=verdict, tag=tag or None)
    everything = claim_views(session=session) if verdict or tag else views
    tags = session.execute(
        select(Tag.key, Tag.name)
        .join(QuestionTag, QuestionTag.tag_id == Tag.id)
        .where(
            QuestionTag.question_id.in_(
                select(Claim.question_id).where(Claim.archived_at.is_(None))
            )
        )
        .distinct()
        .order_by(Tag.name)
    ).all()
    counts = {s: sum(v.status == s for v in everything) for s in STATUSES}
    context = claim_context(views) | {
        "verdict": verdict,
        "tag": tag or "",
        "tags": tags,
        "counts": counts,
        "total": len(everything),
        "statuses": STATUSES,
    }
    return templates.TemplateResponse(request, "claims.html", context)
