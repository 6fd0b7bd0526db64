"""Print an ``ImportReport`` for a person (a summary table and the warnings) or as JSON."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from app.content.importer import ImportReport
from app.content.model import Diagnostic
from app.content.names import merges


def _diag(d: Diagnostic) -> dict[str, Any]:
    return {"line": d.line, "message": d.message}


def to_json(report: ImportReport) -> dict[str, Any]:
    counts = report.counts()
    return {
        "ok": report.ok,
        "dry_run": report.dry_run,
        "written": report.written,
        "files": [
            {
                "path": f.path,
                "source_file": f.source_file,
                "chapter": f.title or None,
                "questions": len(f.questions),
                "warnings": [_diag(d) for d in f.warnings],
                "errors": [_diag(d) for d in f.errors],
            }
            for f in report.files
        ],
        "problems": [
            {"path": d.file, "line": d.line, "level": d.level, "message": d.message}
            for d in report.problems
        ],
        "totals": {
            "files": len(report.files),
            "questions": len(report.questions),
            "warnings": len(report.warnings),
            "errors": len(report.errors),
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "archived": report.archived,
            "restored": report.restored,
        },
        "counts": {name: dict(counter.most_common()) for name, counter in counts.items()},
        "merges": merges(report.company_names),
        "tag_merges": report.tag_merges,
        "kept_apart": report.kept_apart,
    }


def print_text(report: ImportReport, console: Console) -> None:
    table = Table(title="Import" + (" (dry run: nothing written)" if report.dry_run else ""))
    for column in ("file", "chapter", "questions", "warnings", "errors"):
        table.add_column(
            column, justify="right" if column in ("questions", "warnings", "errors") else "left"
        )
    for f in report.files:
        table.add_row(
            f.path, f.title, str(len(f.questions)), str(len(f.warnings)), str(len(f.errors))
        )
    console.print(table)

    counts = report.counts()
    for name in ("company", "stage", "tag"):
        if counts[name]:
            top = ", ".join(f"{k} {v}" for k, v in counts[name].most_common(12))
            more = len(counts[name]) - 12
            console.print(f"[bold]{name}[/bold]: {top}" + (f" (+{more} more)" if more > 0 else ""))

    for merge in merges(report.company_names):
        console.print(f"[bold]merged[/bold]: company {merge}", highlight=False)
    for merge in report.tag_merges:
        console.print(f"[bold]merged[/bold]: tag {merge}", highlight=False)
    for kept in report.kept_apart:
        console.print(f"[bold]kept apart[/bold]: {kept}", highlight=False)

    for d in report.diagnostics:
        style = "red" if d.level == "error" else "yellow"
        console.print(f"[{style}]{d}[/{style}]", highlight=False, soft_wrap=True)

    questions = len(report.questions)
    if not report.ok:
        console.print(
            f"[bold red]{len(report.errors)} error(s): nothing was imported.[/bold red] "
            "Fix the lines above and run the import again."
        )
    elif report.dry_run:
        console.print(f"[bold]{questions} questions parsed[/bold]; nothing written (dry run).")
    else:
        console.print(
            f"[bold green]{questions} questions imported[/bold green]: {report.created} new, "
            f"{report.updated} updated, {report.unchanged} unchanged, "
            f"{report.restored} restored, {report.archived} archived."
        )
