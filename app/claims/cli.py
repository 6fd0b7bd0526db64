"""``interview-lab claims check``: run every claim's demo here and print the verdicts.

Runs go through the same path as the workers' (``app.worker.execute``), so they are
stored and the web app shows the same verdicts afterwards. Only (demo, params) pairs
without a succeeded run at the demo's current code version are run, unless ``--rerun``.
"""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from app.claims.service import ClaimView, claim_views
from app.config import get_settings
from app.db import make_engine, make_sessionmaker, migrate
from app.models import Claim, DemoRun
from app.runs.claims import queue_claim_runs

claims_cli = typer.Typer(help="Claims in the answers, checked by the demos.", no_args_is_help=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


STYLE = {
    "supported": "green",
    "refuted": "red",
    "nuanced": "yellow",
    "undecided": "cyan",
    "pending": "dim",
    "error": "red",
}


def spread_line(view: ClaimView) -> str:
    """Each figure's mean ± sd over its runs, e.g. ``gap 0.42 ± 0.06 (n=5)``."""
    out = []
    for s in view.spreads:
        if s.sd is None:
            out.append(f"{s.name} {s.mean:.4g}")
        else:
            out.append(f"{s.name} {s.mean:.4g} ± {s.sd:.2g} (n={s.n})")
    return "; ".join(out)


@claims_cli.command("check")
def check_command(
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.text,
    rerun: Annotated[
        bool, typer.Option("--rerun", help="Run every claim's demo again, even if stored.")
    ] = False,
) -> None:
    """Run the claims' demos (those without a stored run) and print each verdict."""
    from app.worker.execute import execute

    err = Console(stderr=True)
    settings = get_settings()
    engine = make_engine(settings)
    migrate(engine)
    sessions = make_sessionmaker(engine)
    try:
        with sessions() as session:
            if not session.scalar(select(func.count(Claim.id)).where(Claim.archived_at.is_(None))):
                err.print(
                    "[red]no claims are imported.[/red] Import the content first: "
                    "interview-lab import"
                )
                raise typer.Exit(1)
            run_ids = queue_claim_runs(session=session, now=dt.datetime.now(dt.UTC), force=rerun)
        for i, run_id in enumerate(run_ids, start=1):
            with sessions() as session:
                run = session.get(DemoRun, run_id)
                label = f"{run.demo} {json.dumps(run.params, ensure_ascii=False)}" if run else ""
            err.print(f"[{i}/{len(run_ids)}] run #{run_id}: {label}", highlight=False)
            status = execute(run_id, engine=engine, worker_host="claims check")
            if status != "succeeded":
                err.print(f"[red]run #{run_id} {status}[/red]")
        with sessions() as session:
            views = claim_views(session=session)
    finally:
        engine.dispose()

    if output is OutputFormat.json:
        typer.echo(json.dumps([v.as_dict() for v in views], ensure_ascii=False, indent=2))
    else:
        table = Table("claim", "kind", "verdict", "evidence", "spread", "runs", title="Claims")
        for v in views:
            style = STYLE.get(v.status, "red")
            table.add_row(
                v.id,
                v.kind if not v.has_parts else " + ".join(p.kind for p in v.parts),
                f"[{style}]{v.status}[/{style}]",
                v.explanation + (f" ({v.note})" if v.note else ""),
                spread_line(v),
                ", ".join(f"#{i}" for i in v.run_ids),
            )
        Console().print(table)
    counts = {s: sum(v.status == s for v in views) for s in STYLE}
    err.print(", ".join(f"{n} {s}" for s, n in counts.items() if n))
    raise typer.Exit(1 if any(v.status in ("error", "pending") for v in views) else 0)
