"""Claims with their verdicts (keyword-only services; they own the SQL).

A claim's evidence is the newest run of each (seed × setting) its checks need at the
demo's current code version (``app.claims.evidence``). The verdict is computed from those
runs' figures each time it is asked for, so it follows the runs: a rerun with other
figures gives another verdict, and a demo whose code changed shows ``pending`` until its
new runs finish. Queueing the runs
that claims lack is a run's life, so it lives above, in ``app.runs.claims``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.claims.evidence import (
    CheckResult,
    RunKey,
    Versions,
    all_languages,
    claim_checks,
    combine,
    demo_versions,
    evidence_runs,
    judge_check,
)
from app.claims.reasons import in_language, status_reason
from app.claims.spread import Spread
from app.claims.texts import LANGUAGES, Text, pick
from app.claims.verdict import Status
from app.demos import registry
from app.errors import NotFound
from app.i18n import current_language
from app.i18n import mark as N_
from app.models import Claim, DemoRun, Question, QuestionTag, Tag


@dataclass(frozen=True)
class PartView:
    """One half of a claim's quote (or the whole quote) with its verdict."""

    label: str | None
    kind: str  # as shown: measured, definition, cited, not-measurable-here
    status: Status
    reason: str
    explanations: Text
    spreads: list[Spread]
    sources: list[str]
    rules: dict[str, str]
    run_ids: list[int]

    @property
    def explanation(self) -> str:
        return pick(self.explanations, current_language())

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "kind": self.kind,
            "verdict": self.status,
            "reason": self.reason or None,
            "explanation": self.explanation,
            "explanations": self.explanations,
            "figures": [s.as_dict() for s in self.spreads],
            "rules": self.rules,
            "sources": self.sources,
            "run_ids": self.run_ids,
        }


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
    kind: str = "measured"  # the claim's; "mixed" when its halves differ
    explanations: Text = field(default_factory=dict)
    summaries: Text = field(default_factory=dict)
    note: str = ""
    parts: list[PartView] = field(default_factory=list)
    has_parts: bool = False
    run_id: int | None = None
    run_ids: list[int] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        """In the reader's language (the other one when it lacks it)."""
        return pick(self.explanations, current_language())

    @property
    def summary(self) -> str:
        return pick(self.summaries, current_language())

    @property
    def note_text(self) -> str:
        """The note (why undecided, which halves hold) in the reader's language; ``note``
        is its English, for the CLI and the JSON."""
        return in_language(self.note, current_language())

    @property
    def spreads(self) -> list[Spread]:
        """The figures of every half; one two halves read from the same runs, once."""
        shown: list[Spread] = []
        for spread in (s for p in self.parts for s in p.spreads):
            if spread not in shown:
                shown.append(spread)
        return shown

    @property
    def figures(self) -> dict[str, float]:
        """Each figure's value (its mean over the runs)."""
        return {s.name: s.mean for s in self.spreads}

    @property
    def demo_url(self) -> str:
        """The demo's page with the claim's parameters filled in, ready to run or vary."""
        return f"/demos/{self.demo}?{urlencode(self.params)}" if self.demo else ""

    @property
    def has_verdict(self) -> bool:
        return self.status in ("supported", "refuted", "nuanced", "undecided")

    def as_dict(self) -> dict[str, Any]:
        """What ``GET /api/claims`` and ``claims check --format json`` give per claim."""
        return {
            "id": self.id,
            "question_id": self.question_id,
            "quote": self.quote,
            "kind": self.kind,
            "verdict": self.status,
            "explanation": self.explanation,
            "explanations": self.explanations,
            "summary": self.summaries or None,
            "note": self.note or None,
            "figures": self.figures,
            "spread": [s.as_dict() for s in self.spreads],
            "parts": [p.as_dict() for p in self.parts] if self.has_parts else [],
            "run_id": self.run_id,
            "run_ids": self.run_ids,
            "demo": self.demo or None,
            "params": self.params,
            "demo_url": self.demo_url or None,
            "sources": self.sources,
        }


def _part(result: CheckResult) -> PartView:
    check = result.check
    rules = {
        k: v
        for k, v in (
            ("undecided", check.undecided),
            ("supported", check.supported),
            ("refuted", check.refuted),
        )
        if v
    }
    return PartView(
        label=check.label,
        kind=result.shown_kind,
        status=result.status,
        reason=result.reason,
        explanations=result.explanation,
        spreads=result.spreads,
        sources=check.sources,
        rules=rules,
        run_ids=result.run_ids,
    )


def _view(claim: Claim, title: str, runs: dict[RunKey, DemoRun], versions: Versions) -> ClaimView:
    checks = claim_checks(claim)
    results = [judge_check(check, runs, versions) for check in checks.checks]
    status, reason = combine(results, parts=checks.parts)
    parts = [_part(r) for r in results]
    demo = registry().get(claim.demo) if claim.demo else None
    if checks.parts:
        explanations = all_languages(
            [checks.explanation]
            + [
                {
                    lang: f"[{p.label} — {in_language(status_reason(p.status), lang)}] "
                    + pick(p.explanations, lang)
                    for lang in LANGUAGES
                }
                for p in parts
            ]
        )
    else:
        explanations = parts[0].explanations
    if status in ("pending", "error") and not checks.parts:
        explanations = results[0].reasons
    run_ids = [i for r in results for i in r.run_ids]
    kinds = {p.kind for p in parts}
    return ClaimView(
        id=claim.id,
        question_id=claim.question_id,
        question_title=title,
        quote=claim.quote,
        demo=claim.demo,
        demo_title=demo.title if demo else claim.demo,
        params=claim.params,
        supported_rule=claim.supported_rule,
        refuted_rule=claim.refuted_rule,
        sources=list(claim.sources),
        status=status,
        kind=kinds.pop() if len(kinds) == 1 else "mixed",
        explanations=explanations,
        summaries=checks.summary,
        note="" if status in ("pending", "error") and not checks.parts else reason,
        parts=parts,
        has_parts=checks.parts,
        run_id=run_ids[-1] if run_ids else None,
        run_ids=run_ids,
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
    checks = [c for claim, _ in rows for c in claim_checks(claim).checks]
    versions = demo_versions(c.demo for c in checks if c.demo)
    runs = evidence_runs(session, checks, versions)
    views = [_view(claim, title, runs, versions) for claim, title in rows]
    return [v for v in views if status is None or v.status == status]


def claim_view(*, session: Session, claim_id: str) -> ClaimView:
    claim = session.get(Claim, claim_id)
    if claim is None or claim.archived_at is not None:
        raise NotFound(N_("claim %(id)r does not exist"), field="claim_id", id=claim_id)
    views = claim_views(session=session, question_ids=[claim.question_id])
    for view in views:
        if view.id == claim_id:
            return view
    raise NotFound(N_("claim %(id)r does not exist"), field="claim_id", id=claim_id)
