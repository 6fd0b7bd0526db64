"""A local pool's worker process (``app.worker.pool`` spawns and supervises them): its
database engine, its CPU priority below the web process's, its loop over run ids, and
what its exit code says when it dies.
"""

from __future__ import annotations

import logging
import os
import signal
from multiprocessing.connection import Connection
from pathlib import Path

from sqlalchemy import Engine

from app.config import Settings
from app.db import make_engine
from app.runs.lifecycle import describe_error
from app.runs.lifecycle import fail as fail_run
from app.worker.execute import resolve_lookup

log = logging.getLogger(__name__)

# Workers run this much below the web process's CPU priority (nice), so a demo training,
# or torch loading as ``serve`` starts its pool, takes only the CPU the pages leave free:
# on a 2-core machine two workers would otherwise halve the web process's share.
WORKER_NICE = 5


def engine_for(database_url: str) -> Engine:
    """An engine for ``database_url``. For a SQLite file the data folder is the file's
    own folder, so that make_engine creates no default data folder beside it."""
    settings = Settings(database_url=database_url)
    if database_url.startswith("sqlite:///") and database_url != "sqlite:///:memory:":
        path = Path(database_url.removeprefix("sqlite:///"))
        settings = Settings(database_url=database_url, data_dir=path.parent)
    return make_engine(settings)


def lower_priority(pid: int, by: int = WORKER_NICE) -> None:
    """Make process ``pid`` ``by`` steps nicer than this process (where the OS allows)."""
    if not hasattr(os, "setpriority"):
        return
    try:
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, pid, min(19, mine + by))
    except OSError:  # gone already, or not allowed: it runs at our priority
        log.debug("could not lower the priority of worker %d", pid)


def describe_exit(exitcode: int | None) -> str:
    """``"exit code -11, SIGSEGV"``: what a dead worker's exit code means."""
    if exitcode is None or exitcode >= 0:
        return f"exit code {exitcode}"
    try:
        name = signal.Signals(-exitcode).name
    except ValueError:
        return f"exit code {exitcode}"
    if -exitcode == signal.SIGKILL:
        # The kernel's OOM killer sends SIGKILL: the commonest cause on a small machine.
        return f"exit code {exitcode}, {name}: killed, perhaps for lack of memory"
    return f"exit code {exitcode}, {name}"


def worker_main(
    conn: Connection, database_url: str, find_demo: str, threads: int, running_cap: int | None
) -> None:
    """A worker process: load torch and the demos once, then run one id at a time."""
    # Ctrl-C in a terminal reaches the whole process group; the parent stops workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch

    from app.worker.execute import default_worker_host, execute

    if threads > 0:
        # Without this every worker uses every core, and they fight over them.
        torch.set_num_threads(threads)
    engine = engine_for(database_url)
    # Import the demos now, so the first run's time limit is not spent on imports.
    resolve_lookup(find_demo)
    host = default_worker_host()
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the parent is gone
            break
        if message is None:
            break
        run_id = int(message)
        try:
            status = execute(
                run_id,
                engine=engine,
                find_demo=find_demo,
                worker_host=host,
                running_cap=running_cap,
            )
        except Exception as exc:  # e.g. the database went away: report and carry on
            log.exception("run %s: execute failed", run_id)
            try:
                fail_run(engine, run_id, describe_error(exc))
            except Exception:
                log.exception("run %s: could not mark it failed", run_id)
            status = "failed"
        conn.send(("done", run_id, status))
    engine.dispose()
