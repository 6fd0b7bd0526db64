"""Claims with their verdicts (keyword-only services; they own the SQL).

A claim's evidence is the newest run of its demo with its parameters at the demo's
current code version. The verdict is computed from that run's figures each time it is
asked for, so it follows the run: a rerun with other figures gives another verdict, and
a demo whose code changed shows ``pending`` until its new run finishes. Queueing the runs
that claims lack is a run's life, so it lives above, in ``app.runs.claims``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.claims.rules import MissingFigure, parse_rule
from app.claims.verdict import Status, explain, judge, used_figures
from app.content.answers import demo_inputs
from app.demos import registry
from app.demos.base import run_version
from app.errors import NotFound
from app.models import Claim, DemoRun, Question, QuestionTag, Tag
from app.models.runs import IN_FLIGHT, RunStatus

RunKey = tuple[str, str, str]  # demo, params hash, code version


@dataclass(frozen=True)
class ClaimView:
    """A claim as pages, the API and the CLI show it."""

    id: str
    question_id: str
    question_title: str
    quote: str
    demo: str
    demo_title: str
    params: dict[str, Any]
    supported_rule: str | None
    refuted_rule: str | None
    sources: list[str]
    status: Status
    explanation: str  # with the run's figures, or the reason there is no verdict
    note: str = ""
    figures: dict[str, float] = field(default_factory=dict)
    run_id: int | None = None
    run_status: str | None = None

    @property
    def demo_url(self) -> str:
        """The demo's page with the claim's parameters filled in, ready to run or vary."""
        return f"/demos/{self.demo}?{urlencode(self.params)}"

    @property
    def has_verdict(self) -> bool:
        return self.status in ("supported", "refuted", "nuanced")

    def as_dict(self) -> dict[str, Any]:
        """What ``GET /api/claims`` and ``claims check --format json`` give per claim."""
        return {
            "id": self.id,
            "question_id": self.question_id,
            "quote": self.quote,
            "verdict": self.status,
            "explanation": self.explanation,
            "note": self.note or None,
            "figures": self.figures,
            "run_id": self.run_id,
            "demo": self.demo,
            "params": self.params,
            "demo_url": self.demo_url,
            "sources": self.sources,
        }


def run_key(claim: Claim) -> RunKey | None:
    """The run a claim's verdict reads: its demo and parameters at the demo's current code
    version (None for a demo the registry doesn't know)."""
    demo = registry().get(claim.demo)
    return (
        None
        if demo is None
        else (claim.demo, claim.params_hash, run_version(demo, demo_inputs(demo.inputs)))
    )


def evidence_runs(session: Session, claims: Iterable[Claim]) -> dict[RunKey, DemoRun]:
    """For each claim's (demo, params, code version): the newest succeeded run, else the
    newest one queued or running, else the newest that failed."""
    keys = {key for c in claims if (key := run_key(c)) is not None}
    if not keys:
        return {}
    rows = session.scalars(
        select(DemoRun)
        .where(
            DemoRun.demo.in_({k[0] for k in keys}),
            DemoRun.params_hash.in_({k[1] for k in keys}),
        )
        .order_by(DemoRun.id.desc())
    )
    rank: dict[str, int] = {RunStatus.SUCCEEDED: 0, RunStatus.QUEUED: 1, RunStatus.RUNNING: 1}
    best: dict[RunKey, DemoRun] = {}
    for run in rows:
        key = (run.demo, run.params_hash, run.code_version)
        if key not in keys:
            continue
        current = best.get(key)
        if current is None or rank.get(run.status, 2) < rank.get(current.status, 2):
            best[key] = run
    return best


def _view(claim: Claim, title: str, run: DemoRun | None) -> ClaimView:
    demo = registry().get(claim.demo)
    base: dict[str, Any] = {
        "id": claim.id,
        "question_id": claim.question_id,
        "question_title": title,
        "quote": claim.quote,
        "demo": claim.demo,
        "demo_title": demo.title if demo else claim.demo,
        "params": claim.params,
        "supported_rule": claim.supported_rule,
        "refuted_rule": claim.refuted_rule,
        "sources": list(claim.sources),
    }
    if run is None:
        return ClaimView(**base, status="pending", explanation="no run of its demo yet")
    base |= {"run_id": run.id, "run_status": run.status}
    if run.status in IN_FLIGHT:
        return ClaimView(**base, status="pending", explanation=f"run #{run.id} is {run.status}")
    if run.status != RunStatus.SUCCEEDED or not run.result:
        reason = f"run #{run.id} {run.status}" + (f": {run.error}" if run.error else "")
        return ClaimView(**base, status="failed", explanation=reason)
    figures: dict[str, float] = run.result.get("figures", {})
    supported = parse_rule(claim.supported_rule) if claim.supported_rule else None
    refuted = parse_rule(claim.refuted_rule) if claim.refuted_rule else None
    try:
        judgement = judge(supported=supported, refuted=refuted, figures=figures)
    except MissingFigure as exc:
        return ClaimView(
            **base,
            status="failed",
            explanation=f"run #{run.id} has no figure {exc.name!r}",
        )
    return ClaimView(
        **base,
        status=judgement.verdict,
        note=judgement.note,
        explanation=explain(claim.explanation, figures),
        figures=used_figures([supported, refuted], claim.explanation, figures),
    )


def claim_views(
    *,
    session: Session,
    question_ids: Collection[str] | None = None,
    status: Status | None = None,
    tag: str | None = None,
) -> list[ClaimView]:
    """Live claims in bank order (chapter file, then position), with their verdicts;
    optionally only those of ``question_ids``, of one ``status``, or whose question
    carries the tag ``tag`` (its folded key)."""
    stmt = (
        select(Claim, Question.title)
        .join(Question, Question.id == Claim.question_id)
        .where(Claim.archived_at.is_(None), Question.archived_at.is_(None))
        .order_by(Claim.source_file, Claim.position)
    )
    if question_ids is not None:
        stmt = stmt.where(Claim.question_id.in_(list(question_ids)))
    if tag:
        stmt = stmt.where(
            Claim.question_id.in_(select(QuestionTag.question_id).join(Tag).where(Tag.key == tag))
        )
    rows = session.execute(stmt).all()
    runs = evidence_runs(session, [claim for claim, _ in rows])
    views = []
    for claim, title in rows:
        key = run_key(claim)
        views.append(_view(claim, title, runs.get(key) if key else None))
    return [v for v in views if status is None or v.status == status]


def claim_view(*, session: Session, claim_id: str) -> ClaimView:
    claim = session.get(Claim, claim_id)
    if claim is None or claim.archived_at is not None:
        raise NotFound(f"claim {claim_id!r} does not exist", field="claim_id")
    views = claim_views(session=session, question_ids=[claim.question_id])
    for view in views:
        if view.id == claim_id:
            return view
    raise NotFound(f"claim {claim_id!r} does not exist", field="claim_id")
