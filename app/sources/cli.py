"""``interview-lab sources``: list the sources of the bank; ``sources remove NAME``
archives a source's questions (progress kept; importing it again restores them)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from app.config import get_settings
from app.db import make_engine, make_sessionmaker, migrate, session_scope
from app.sources.fetch import SourceError
from app.sources.service import list_sources, remove_source

sources_cli = typer.Typer(help="The sources of the bank: list, remove.", no_args_is_help=False)


@sources_cli.callback(invoke_without_command=True)
def sources_command(ctx: typer.Context) -> None:
    """List the sources: name, kind, origin, questions, last import."""
    if ctx.invoked_subcommand is not None:
        return
    engine = make_engine(get_settings())
    try:
        migrate(engine)
        with make_sessionmaker(engine)() as session:
            rows = list_sources(session=session)
    finally:
        engine.dispose()
    console = Console()
    if not rows:
        console.print("no sources yet: interview-lab import PATH|URL adds one")
        return
    table = Table("name", "kind", "origin", "chapters", "questions", "last import", "state")
    for row in rows:
        table.add_row(
            escape(row.name),
            row.kind,
            escape(row.origin),
            str(row.chapters),
            str(row.questions),
            row.imported_at.strftime("%Y-%m-%d %H:%M") if row.imported_at else "-",
            "removed" if row.removed_at else "active",
        )
    console.print(table)


@sources_cli.command("remove")
def remove_command(name: Annotated[str, typer.Argument(help="The source's name.")]) -> None:
    """Archive a source's questions (cards kept; import it again to restore them)."""
    engine = make_engine(get_settings())
    try:
        migrate(engine)
        with session_scope(make_sessionmaker(engine)) as session:
            archived = remove_source(session=session, name=name, now=dt.datetime.now(dt.UTC))
    except SourceError as exc:
        Console(stderr=True).print(f"[red]{escape(exc.message)}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    Console().print(f"source {escape(name)} removed: {archived} questions archived (cards kept)")
