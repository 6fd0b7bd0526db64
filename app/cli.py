"""The command line: ``interview-lab`` (or ``python -m app``).

- ``serve``: migrate, import ``content/``, start the web server (embedded default);
- ``import [PATH|URL ...]``: import markdown files, folders, archives and git URLs in one
  transaction, each remembered as a source; ``sources`` lists them, ``sources remove``;
- ``migrate``: bring the database schema up to date;
- ``demo list`` / ``demo run NAME --set key=value``: the live demos in the terminal;
- ``claims check [--format json]``: run the claims' demos and print their verdicts;
- ``export anki`` / ``export data`` / ``export import-data FILE``: an Anki deck of the
  bank; a user's study data as JSON, and its import (``app.export.cli``);
- ``worker``: a Celery worker for demo runs (at scale).
"""

from __future__ import annotations

import datetime as dt
import gc
import ipaddress
import json
import socket
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from app.config import Settings, get_settings
from app.db import make_engine, make_sessionmaker, session_scope
from app.schema import ensure_schema

if TYPE_CHECKING:  # the importer and the claim files load only when an import runs
    from sqlalchemy.orm import Session

    from app.bank import BankReport

cli = typer.Typer(
    help="Interview Lab: study LLM-engineering interview questions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
err = Console(stderr=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def run_import(settings: Settings, paths: list[Path], *, dry_run: bool = False) -> BankReport:
    """Import ``paths`` (questions, then claims) into the settings' database in one
    transaction."""
    if dry_run:
        from app.bank import check_bank

        # A dry run parses only: it needs no database and writes nothing.
        report = check_bank(paths=paths, content_dir=settings.content_dir)
        report.dry_run = True
        return report
    written = _import_bank(settings, paths, skip_unchanged=False)
    assert written is not None  # only an unchanged folder, when asked to skip it, is None
    return written


def import_content(settings: Settings) -> BankReport | None:
    """``serve``'s import of the content folder: None, having read no file but to hash
    it, when nothing it reads changed since its last import into this database
    (``app.startup``); else the import's report."""
    return _import_bank(settings, [settings.content_dir], skip_unchanged=True)


def _import_bank(
    settings: Settings, paths: list[Path], *, skip_unchanged: bool
) -> BankReport | None:
    from app import startup

    engine = make_engine(settings)
    try:
        migrated = ensure_schema(engine)
        # Only an import of the whole content folder vouches for it (and is skipped).
        whole = [p.resolve() for p in paths] == [settings.content_dir.resolve()]
        files = startup.files_fingerprint(settings.content_dir) if whole else None
        with session_scope(make_sessionmaker(engine)) as session:
            if skip_unchanged and files and not migrated and startup.is_unchanged(session, files):
                return None
            from app.bank import import_bank

            report = import_bank(
                session, paths=paths, content_dir=settings.content_dir, now=dt.datetime.now(dt.UTC)
            )
            if files is not None and report.written:
                startup.store_fingerprint(session, files)
            return report
    finally:
        engine.dispose()


def run_sources(settings: Settings, targets: list[str], *, dry_run: bool = False) -> BankReport:
    """Import ``targets`` (files, folders, archives, git URLs) as sources, in one
    transaction; a dry run fetches and parses only."""
    from app.sources.service import import_sources

    def run(session: Session | None) -> BankReport:
        return import_sources(
            session,
            targets=targets,
            data_dir=settings.data_dir,
            content_dir=settings.content_dir,
            now=dt.datetime.now(dt.UTC),
            dry_run=dry_run,
        )[0]

    if dry_run:
        return run(None)
    engine = make_engine(settings)
    try:
        ensure_schema(engine)
        with session_scope(make_sessionmaker(engine)) as session:
            return run(session)
    finally:
        engine.dispose()


@cli.command("import")
def import_command(
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help="Markdown files, folders, .zip/.tar.gz archives or git URLs "
            "(default: the content folder).",
            metavar="PATH|URL",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Parse and report; write nothing.")
    ] = False,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="Report as text or JSON.")
    ] = OutputFormat.text,
) -> None:
    """Import Q&A markdown into the database (all files or none); each path or URL is
    remembered as a source ("interview-lab sources")."""
    from app.sources.fetch import SourceError

    settings = get_settings()
    try:
        if targets:
            report = run_sources(settings, targets, dry_run=dry_run)
        else:
            report = run_import(settings, [settings.content_dir], dry_run=dry_run)
    except SourceError as exc:
        err.print(f"[red]{escape(exc.message)}[/red]")
        raise typer.Exit(1) from None
    from app.bank import print_text, to_json

    if output is OutputFormat.json:
        typer.echo(json.dumps(to_json(report), ensure_ascii=False, indent=2))
    else:
        print_text(report, Console())
    raise typer.Exit(0 if report.ok else 1)


@cli.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database schema."""
    settings = get_settings()
    engine = make_engine(settings)
    ensure_schema(engine)
    engine.dispose()
    err.print("database is up to date")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and names that resolve only to them (``localhost``)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def check_trusted_hosts(settings: Settings) -> None:
    """Stop on a bad IL_TRUSTED_HOSTS; with accounts on every interface, say when only
    the loopback names are trusted (other machines would get 400 until it names this
    server). The app itself refuses other hosts and, in local mode, other machines."""
    from app.web.security import LOOPBACK_NAMES, WILDCARD_ADDRESSES, trusted_hosts

    try:
        trusted = trusted_hosts(settings)
    except ValueError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    if settings.accounts and settings.host in WILDCARD_ADDRESSES and trusted <= LOOPBACK_NAMES:
        err.print(
            "[yellow]only localhost names are trusted:[/yellow] set IL_TRUSTED_HOSTS to the "
            "names people open this server by (e.g. lab.example.com), or they get 400."
        )


@cli.command("serve")
def serve_command(
    host: Annotated[str | None, typer.Option(help="Address to listen on (IL_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (IL_PORT).")] = None,
    no_import: Annotated[
        bool, typer.Option("--no-import", help="Skip importing content/.")
    ] = False,
) -> None:
    """Migrate, import the content folder, and serve the app."""
    # No garbage collection until the server has settled (``app.main.lifespan`` collects,
    # freezes what the start built, then turns the collector back on), or until this
    # returns: the start builds ~100,000 objects that live as long as the process, and
    # the collector's passes over them took ~0.1 s of CPU before the first page.
    gc.disable()
    try:
        _serve(host, port, no_import=no_import)
    finally:
        gc.enable()


def _serve(host: str | None, port: int | None, *, no_import: bool) -> None:
    import uvicorn

    from app.main import create_app

    settings = get_settings()
    if host is not None:
        settings.host = host
    if port is not None:
        settings.port = port
    if not is_loopback(settings.host) and not settings.accounts:
        err.print(
            f"[red]refusing to serve on {settings.host}:[/red] accounts are off, so anyone "
            "who can reach the address would study as the one local user. Serve on "
            "127.0.0.1 (the default), or turn accounts on with IL_ACCOUNTS=true."
        )
        raise typer.Exit(2)
    check_trusted_hosts(settings)
    if not no_import:
        report = import_content(settings)
        if report is None:
            err.print(f"{settings.content_dir}: unchanged since its last import.")
        else:
            from app.bank import print_text

            print_text(report, err)
            if not report.ok:
                err.print(
                    "[yellow]serving the content imported before; fix the errors above.[/yellow]"
                )
    else:
        engine = make_engine(settings)
        ensure_schema(engine)
        engine.dispose()
    err.print(f"Interview Lab on http://{settings.host}:{settings.port}/")
    uvicorn.run(create_app(settings, start_workers=True), host=settings.host, port=settings.port)


@cli.command("worker")
def worker_command(
    queue: Annotated[str, typer.Option(help="Queue to take runs from: cpu or gpu.")] = "cpu",
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Runs at once.")] = 1,
    pidfile: Annotated[Path | None, typer.Option(help="Write the worker's pid here.")] = None,
) -> None:
    """A Celery worker for demo runs (at scale: IL_QUEUE=celery, DATABASE_URL, IL_REDIS_URL)."""
    import os

    if queue not in ("cpu", "gpu"):
        raise typer.BadParameter(f"queue {queue!r} is not cpu or gpu", param_hint="--queue")
    settings = get_settings()
    err.print(f"worker on queue {queue}, broker {settings.redis_url}")
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "app.worker.celery_main:app",
        "worker",
        "-Q",
        queue,
        "-c",
        str(concurrency),
        "-n",
        f"{queue}@%h",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
    ]
    if pidfile is not None:
        args += ["--pidfile", str(pidfile)]
    # exec: the process a supervisor (or a test) started is the worker itself.
    os.execv(sys.executable, args)


def _register_subcommands() -> None:
    from app.claims.cli import claims_cli
    from app.export.cli import export_cli
    from app.runs.cli import demo_cli
    from app.sources.cli import sources_cli

    cli.add_typer(demo_cli, name="demo")
    cli.add_typer(claims_cli, name="claims")
    cli.add_typer(export_cli, name="export")
    cli.add_typer(sources_cli, name="sources")


# The commands of this module that need none of the sub-commands' modules (claims,
# exports, demos, sources): run as such (``interview-lab serve``, ``python -m app serve``),
# the CLI leaves the sub-commands out, and ``serve`` starts without their imports.
OWN_COMMANDS = frozenset({"serve", "migrate", "worker"})


def runs_own_command(argv: list[str]) -> bool:
    """Whether this process is the CLI started for one of ``OWN_COMMANDS``."""
    started_as_cli = Path(argv[0]).name in ("interview-lab", "__main__.py") if argv else False
    return started_as_cli and len(argv) > 1 and argv[1] in OWN_COMMANDS


if not runs_own_command(sys.argv):
    _register_subcommands()


def main() -> None:
    cli(prog_name="interview-lab")


if __name__ == "__main__":
    main()
