"""Import the bank: its questions (``app.content``), then the claims beside them
(``app.claims``), in the caller's one transaction.

This module sits above both layers, so ``content`` knows nothing of claims: a claim file
whose quote no longer matches an answer stops the whole import, as a broken question does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy.orm import Session

from app.claims.files import ClaimFiles
from app.claims.store import check_claims, store_claims
from app.content import report as content_report
from app.content.importer import ImportReport, parse_paths, write_parsed


@dataclass
class BankReport(ImportReport):
    """An ``ImportReport`` of the questions, with the claim files checked against them."""

    # The claim files (content/claims/*.yaml), checked against the answers.
    claims: ClaimFiles = field(default_factory=ClaimFiles)
    claims_archived: int = 0

    @classmethod
    def of(cls, report: ImportReport) -> BankReport:
        return cls(**{f.name: getattr(report, f.name) for f in fields(ImportReport)})


def check_bank(
    *, paths: Sequence[Path], content_dir: Path, session: Session | None = None
) -> BankReport:
    """Parse ``paths`` and check the claim files against their answers (and, with a
    ``session``, those of questions already imported); writes nothing."""
    parsed = parse_paths(paths, content_dir, session=session, to_write=False)
    return _with_claims(parsed, session, content_dir)


def _with_claims(parsed: ImportReport, session: Session | None, content_dir: Path) -> BankReport:
    report = BankReport.of(parsed)
    if report.ok:
        report.claims = check_claims(session, report.files, content_dir)
        report.problems.extend(report.claims.diagnostics)
    return report


def import_bank(
    session: Session,
    *,
    paths: Sequence[Path],
    content_dir: Path,
    now: dt.datetime,
    dry_run: bool = False,
) -> BankReport:
    """Check ``paths`` and the claims; unless ``dry_run`` or anything has an error,
    write the questions, then the claims, with ``session`` (the caller commits)."""
    # A dry run parses afresh (no parse cache) but still finds quotes in the database.
    parsed = parse_paths(paths, content_dir, session=None if dry_run else session)
    report = _with_claims(parsed, session, content_dir)
    report.dry_run = dry_run
    if dry_run or not report.ok:
        return report
    write_parsed(session, report, paths=paths, content_dir=content_dir, now=now)
    report.claims_archived = store_claims(session, report.claims.claims, now=now)
    return report


def to_json(report: BankReport) -> dict[str, Any]:
    """The questions' report as JSON, with the claims' totals."""
    data = content_report.to_json(report)
    data["totals"] |= {
        "claims": len(report.claims.claims),
        "claims_archived": report.claims_archived,
    }
    return data


def print_text(report: BankReport, console: Console) -> None:
    """The questions' report for a person, then a line on the claims."""
    content_report.print_text(report, console)
    claims = len(report.claims.claims)
    if report.ok and (claims or report.claims_archived):
        console.print(
            f"{claims} claims checked against their answers and demos"
            + (f", {report.claims_archived} archived" if report.claims_archived else "")
            + ("." if report.dry_run else "; verdicts come from their demo runs.")
        )
