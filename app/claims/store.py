"""Claims in the import: read the claim files against the answers being imported (and
those already in the database), then write them in the import's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.claims.files import ClaimFiles, ClaimSpec, claim_paths, read_claim_files
from app.content.model import ParsedFile
from app.models import Claim, Question
from app.models.runs import params_hash


def check_claims(
    session: Session | None, files: Sequence[ParsedFile], content_dir: Path
) -> ClaimFiles:
    """Read every claim file under ``content_dir/claims``. Quotes are looked up in the
    answers of ``files`` and, for questions of other files, in the database."""
    paths = claim_paths(content_dir)
    if not paths:
        return ClaimFiles()
    answers = {q.id: q.answer_html for f in files for q in f.questions}
    if session is not None:
        imported = {f.source_file for f in files}
        for qid, html, source_file in session.execute(
            select(Question.id, Question.answer_html, Question.source_file).where(
                Question.archived_at.is_(None)
            )
        ):
            if source_file not in imported:
                answers.setdefault(qid, html)
    return read_claim_files(paths, content_dir, answers)


def store_claims(session: Session, claims: Sequence[ClaimSpec], *, now: dt.datetime) -> int:
    """Upsert ``claims``; archive the stored ones no claim file names any more. Returns
    how many were archived."""
    stored = {c.id: c for c in session.scalars(select(Claim))}
    for spec in claims:
        row = stored.get(spec.id) or Claim(id=spec.id)
        row.question_id = spec.question_id
        row.quote = spec.quote
        row.demo = spec.demo
        row.params = spec.params
        row.params_hash = params_hash(spec.params) if spec.demo else ""
        row.supported_rule = spec.supported
        row.refuted_rule = spec.refuted
        row.explanation = spec.explanation
        row.sources = spec.sources
        row.kind = spec.kind
        row.spec = spec.checks.to_json()
        row.source_file = spec.source_file
        row.source_line = spec.line
        row.position = spec.position
        row.updated_at = now
        row.archived_at = None
        session.add(row)
    keep = {spec.id for spec in claims}
    archived = 0
    for claim_id, row in stored.items():
        if claim_id not in keep and row.archived_at is None:
            row.archived_at = now
            archived += 1
    session.flush()
    return archived
