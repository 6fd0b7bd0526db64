"""``interview-lab export ...``: the exports and the import in the terminal.

- ``export anki [--out FILE] [--company X --tag Y ...] [--user NAME | --bank-only]``: the
  bank (or a filtered slice, the same facets as the browse page) as an Anki ``.apkg``,
  with a user's notes and own answers in it (``--bank-only``: without);
- ``export data [--user NAME] [--out FILE]``: a user's study data as JSON (``-``: stdout);
- ``export import-data FILE [--user NAME] [--replace]``: import such a file into a user.

``--user`` defaults to the built-in local user. Errors print one clear line and exit 1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.content.filters import QuestionFilter
from app.db import make_engine, make_sessionmaker, migrate
from app.errors import AppError, Conflict
from app.export import anki, userdata
from app.models import User
from app.users.service import local_user

export_cli = typer.Typer(
    help="Export the bank to Anki; export and import your study data.", no_args_is_help=True
)
err = Console(stderr=True, highlight=False)

Facet = Annotated[list[str] | None, typer.Option(help="Repeat for several (any of).")]
UserOption = Annotated[
    str | None, typer.Option("--user", help="Account name (default: the local user).")
]


@contextmanager
def _session() -> Iterator[Session]:
    """A session on the configured, migrated database; an ``AppError`` exits 1."""
    engine = make_engine(get_settings())
    try:
        migrate(engine)
        with make_sessionmaker(engine)() as session:
            yield session
    except AppError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def _user(session: Session, name: str | None) -> User:
    if name is None:
        return local_user(session=session)
    user = session.scalar(select(User).where(User.username == name))
    if user is None:
        err.print(f"[red]error:[/red] there is no user named {name!r}")
        raise typer.Exit(1)
    return user


@export_cli.command("anki")
def anki_command(
    out: Annotated[Path, typer.Option("--out", help="The .apkg file to write.")] = Path(
        "interview-lab.apkg"
    ),
    company: Facet = None,
    role: Facet = None,
    stage: Facet = None,
    tag: Facet = None,
    chapter: Facet = None,
    q: Annotated[str, typer.Option("--q", help="Substring search.")] = "",
    user: UserOption = None,
    bank_only: Annotated[
        bool, typer.Option("--bank-only", help="Leave out the user's notes and own answers.")
    ] = False,
) -> None:
    """Write the question bank (or the questions under the filters) as an Anki deck, with
    a user's notes and own answers in it."""
    flt = QuestionFilter.from_params(
        {"company": company, "role": role, "stage": stage, "tag": tag, "chapter": chapter, "q": q}
    )
    with _session() as session:
        found = None if bank_only else _user(session, user)
        data, count = anki.export_anki(
            session=session, flt=flt, now=dt.datetime.now(dt.UTC), user=found
        )
    out.write_bytes(data)
    err.print(f"wrote {count} notes to {out}")


@export_cli.command("data")
def data_command(
    user: UserOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="The .json file to write ('-': stdout).")
    ] = None,
) -> None:
    """Write a user's cards, review log, quizzes, interviews, notes, mock interviews and
    settings as JSON."""
    now = dt.datetime.now(dt.UTC)
    with _session() as session:
        found = _user(session, user)
        data = userdata.export_user_data(session=session, user=found, now=now)
        name = found.username
    text = userdata.dumps(data)
    if out is not None and str(out) == "-":
        typer.echo(text)
        return
    target = out or Path(f"interview-lab-{name}-{now.date().isoformat()}.json")
    target.write_text(text + "\n", encoding="utf-8")
    err.print(
        f"wrote {len(data['cards'])} cards, {len(data['review_logs'])} reviews, "
        f"{len(data['quizzes'])} quizzes, {len(data['interviews'])} interviews and "
        f"{len(data['mock_interviews'])} mock interviews to {target}"
    )


@export_cli.command("import-data")
def import_command(
    file: Annotated[Path, typer.Argument(help="A file written by 'export data'.")],
    user: UserOption = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the study data the user already has.")
    ] = False,
) -> None:
    """Import a user-data file into a user (all or nothing)."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        err.print(f"[red]error:[/red] cannot read {file}: {exc.strerror}")
        raise typer.Exit(1) from None
    with _session() as session:
        data = userdata.parse_user_data(userdata.loads(raw))
        found = _user(session, user)
        try:
            summary = userdata.import_user_data(
                session=session, user=found, data=data, replace=replace
            )
        except Conflict as exc:
            err.print(f"[red]error:[/red] {escape(exc.message)} (pass --replace)")
            raise typer.Exit(1) from None
    err.print(
        f"imported {summary.cards} cards, {summary.review_logs} reviews, "
        f"{summary.quizzes} quizzes, {summary.interviews} interviews and "
        f"{summary.mock_interviews} mock interviews"
        + (" (the user's previous data was replaced)" if summary.replaced else "")
    )
    if summary.unknown_questions:
        shown = ", ".join(summary.unknown_questions[:5])
        more = "" if len(summary.unknown_questions) <= 5 else ", ..."
        err.print(
            f"[yellow]skipped {summary.skipped_records} records of "
            f"{len(summary.unknown_questions)} questions this bank does not have:[/yellow] "
            f"{shown}{more}"
        )
