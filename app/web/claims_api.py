"""The JSON API of claims: each with its verdict, the figures it used and its run."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.claims.service import ClaimView, claim_view, claim_views
from app.claims.verdict import Status
from app.web.csrf import same_origin
from app.web.deps import SessionDep
from app.web.schemas import ClaimPublic

router = APIRouter(prefix="/api", tags=["claims"], dependencies=[Depends(same_origin)])


def public(view: ClaimView) -> ClaimPublic:
    return ClaimPublic.model_validate(view.as_dict())


@router.get("/claims")
def list_claims(
    session: SessionDep,
    verdict: Annotated[Status | None, Query(description="Only claims with this verdict")] = None,
    tag: Annotated[str | None, Query(max_length=200, description="A tag key")] = None,
    question_id: Annotated[str | None, Query(max_length=200)] = None,
) -> list[ClaimPublic]:
    """Every live claim: its quote, verdict (``pending`` until its run finishes,
    ``failed`` when the run failed), the figures its rules read and the run's id."""
    views = claim_views(
        session=session,
        status=verdict,
        tag=tag or None,
        question_ids=[question_id] if question_id else None,
    )
    return [public(v) for v in views]


@router.get("/claims/{claim_id}")
def get_claim(claim_id: str, session: SessionDep) -> ClaimPublic:
    return public(claim_view(session=session, claim_id=claim_id))
