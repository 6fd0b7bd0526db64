"""The embedded default's run queue: a few persistent local worker processes.

``serve`` starts a :class:`LocalPool` in the web process. The workers are spawned (not
forked), so torch loads only in them and never in the web process; each takes one run
id at a time over its own pipe and calls :func:`app.worker.execute.execute`.

A supervisor thread in the parent dispatches queued runs (fairly between users, oldest
first for each: ``app.runs.fairness``; at most ``running_cap`` runs of one user at once).
Queued rows in the database are the truth and are read at every poll, so a queued run
nobody holds (queued while the server was down, or by another process) is taken at the
next poll. It also watches the workers: a run past its demo's time limit gets its worker killed,
a worker that dies by itself (segfault, OOM kill) has its run marked failed, and either
way a replacement is started, so the server keeps serving.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing as mp
import os
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from app.models.base import utcnow
from app.runs.fairness import next_runs
from app.runs.lifecycle import describe_error, reap_stale
from app.runs.lifecycle import fail as fail_run
from app.worker.execute import DEFAULT_FIND_DEMO, Lookup, resolve_lookup
from app.worker.process import WORKER_NICE, describe_exit, engine_for, lower_priority, worker_main

__all__ = ["WORKER_NICE", "LocalPool", "describe_exit", "engine_for"]

log = logging.getLogger(__name__)

# A running run whose heartbeat (refreshed every few seconds by its worker) is older than
# this is failed: its worker is gone (e.g. the previous server was killed).
REAP_AFTER = dt.timedelta(minutes=2)
REAP_EVERY_S = 30.0
# Idle workers get this long to exit after being asked to, before they are killed.
STOP_GRACE_S = 5.0


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    ready: bool = False
    eof: bool = False
    run_id: int | None = None
    user_id: int | None = None  # the user of run_id
    limit: float = 0.0
    deadline: float = 0.0


class LocalPool:
    """Local worker processes fed from the queued rows of the database."""

    def __init__(
        self,
        database_url: str,
        processes: int = 2,
        find_demo: str = DEFAULT_FIND_DEMO,
        poll_interval: float = 0.5,
        *,
        reap_after: dt.timedelta = REAP_AFTER,
        threads: int | None = None,
        running_cap: int | None = None,
    ) -> None:
        if processes < 1:
            raise ValueError(f"processes must be at least 1, not {processes}")
        self.database_url = database_url
        self.processes = processes
        self.find_demo = find_demo
        self.poll_interval = poll_interval
        self.reap_after = reap_after
        # Runs of one user running at once (None: no cap).
        self.running_cap = running_cap
        # Torch threads per worker: by default every worker would use every core.
        self.threads = threads or max(1, (os.cpu_count() or 1) // processes)
        self._engine = engine_for(database_url)  # connects only when first used
        self._lookup: Lookup | None = None
        self._limits: dict[str, float] = {}
        self._ctx = mp.get_context("spawn")
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._next_reap = self._respawn_at = 0.0
        self._failed_starts = 0
        # submit() wakes the supervisor, which waits on this socket among others.
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)

    def __enter__(self) -> LocalPool:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        with self._lock:
            if self._stopped:
                raise RuntimeError("a stopped LocalPool cannot be started again")
            if self._thread is not None:
                return
            # The demo modules import no torch at module level: safe in the web process.
            self._lookup = resolve_lookup(self.find_demo)
            for _ in range(self.processes):
                self._spawn()
            self._thread = threading.Thread(target=self._supervise, name="local-pool")
            self._thread.daemon = True
            self._thread.start()

    def submit(self, run_id: int) -> None:
        """A run was queued: dispatch it now rather than at the next poll. The id itself
        is not needed: the dispatcher reads the queued rows."""
        try:
            self._wake_w.send(b"\0")
        except OSError:  # buffer full (a wake is pending anyway) or already stopped
            pass

    def running(self) -> dict[int, int]:
        """Run id -> pid of the worker running it."""
        with self._lock:
            return {
                w.run_id: w.process.pid
                for w in self._workers
                if w.run_id is not None and w.process.pid is not None
            }

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._workers if w.process.pid is not None]

    def stop(self) -> None:
        """Stop the supervisor and every worker (idempotent). A run still running is
        killed and marked failed."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._stopping.set()
        self.submit(0)
        if self._thread is not None:
            self._thread.join()
        workers, self._workers = self._workers, []
        for w in workers:
            if w.run_id is None:  # an idle worker exits by itself; a busy one is killed
                try:
                    w.conn.send(None)
                    continue
                except OSError:
                    pass
            w.process.kill()
        deadline = time.monotonic() + STOP_GRACE_S
        for w in workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            self._close(w)
            if w.run_id is not None:
                fail_run(self._engine, w.run_id, "stopped: the server shut down while it ran")
        self._engine.dispose()
        self._wake_r.close()
        self._wake_w.close()

    # -- the supervisor thread ---------------------------------------------------------

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            try:
                self._wait()
                if self._stopping.is_set():
                    break
                with self._lock:
                    self._step()
            except Exception:  # a database hiccup must not end supervision
                log.exception("local pool supervisor; retrying")
                self._stopping.wait(self.poll_interval)

    def _wait(self) -> None:
        with self._lock:
            objects: list[Connection | socket.socket | int] = [self._wake_r]
            timeout = self.poll_interval
            now = time.monotonic()
            for w in self._workers:
                objects.append(w.process.sentinel)
                if not w.eof:
                    objects.append(w.conn)
                if w.run_id is not None:
                    timeout = min(timeout, max(0.0, w.deadline - now))
        wait(objects, timeout)
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:  # drained (BlockingIOError) or closed
            pass

    def _step(self) -> None:
        self._collect()
        self._bury_dead()
        self._enforce_limits()
        now = time.monotonic()
        while len(self._workers) < self.processes and now >= self._respawn_at:
            self._spawn()
        if now >= self._next_reap:
            self._next_reap = now + REAP_EVERY_S
            busy = [w.run_id for w in self._workers if w.run_id is not None]
            reap_stale(self._engine, older_than=self.reap_after, now=utcnow(), exclude=busy)
        self._dispatch()

    def _spawn(self) -> None:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=worker_main,
            args=(child, self.database_url, self.find_demo, self.threads, self.running_cap),
            name="interview-lab-worker",
            daemon=True,  # dies with the server even if stop() is never called
        )
        process.start()
        if process.pid is not None:
            lower_priority(process.pid)
        child.close()  # so the parent sees EOF when the worker dies
        self._workers.append(_Worker(process=process, conn=parent))

    def _collect(self) -> None:
        for w in self._workers:
            while not w.eof:
                try:
                    if not w.conn.poll():
                        break
                    message = w.conn.recv()
                except (EOFError, OSError):
                    w.eof = True
                    break
                if message[0] == "ready":
                    w.ready = True
                    self._failed_starts = 0
                elif message[0] == "done" and message[1] == w.run_id:
                    w.run_id = None

    def _bury_dead(self) -> None:
        for w in list(self._workers):
            if w.process.is_alive():
                continue
            exitcode = w.process.exitcode
            self._remove(w)
            if w.run_id is not None:
                error = f"worker process died ({describe_exit(exitcode)})"
                log.error("run %s failed: %s", w.run_id, error)
                fail_run(self._engine, w.run_id, error)
            elif not w.ready:
                # Dying before it is ready (a broken install, say) would otherwise turn
                # into a tight respawn loop: back off, up to 30 s.
                self._failed_starts += 1
                delay = min(30.0, 0.5 * 2**self._failed_starts)
                self._respawn_at = time.monotonic() + delay
                log.error("worker died while starting (%s)", describe_exit(exitcode))

    def _enforce_limits(self) -> None:
        now = time.monotonic()
        for w in list(self._workers):
            if w.run_id is None or now < w.deadline:
                continue
            w.process.kill()
            w.process.join(STOP_GRACE_S)
            self._remove(w)
            error = f"killed: ran past its time limit of {w.limit:g} s"
            log.error("run %s %s", w.run_id, error)
            fail_run(self._engine, w.run_id, error)

    def _remove(self, w: _Worker) -> None:
        self._workers.remove(w)
        self._close(w)

    @staticmethod
    def _close(w: _Worker) -> None:
        w.conn.close()
        if not w.process.is_alive():
            w.process.join()  # reaps it: no zombie
            w.process.close()

    def _dispatch(self) -> None:
        idle = [w for w in self._workers if w.ready and w.run_id is None and not w.eof]
        if not idle:
            return
        busy = [w for w in self._workers if w.run_id is not None]
        runs = next_runs(
            self._engine,
            running_cap=self.running_cap,
            exclude=[w.run_id for w in busy if w.run_id is not None],
            held=Counter(w.user_id for w in busy),
        )
        for w, run in zip(idle, runs, strict=False):
            limit = self._time_limit(run.id, run.demo)
            if limit is None:
                continue
            try:
                w.conn.send(run.id)
            except OSError:  # it just died: found and replaced on the next step
                continue
            w.run_id, w.user_id, w.limit = run.id, run.user_id, limit
            w.deadline = time.monotonic() + limit

    def _time_limit(self, run_id: int, demo_name: str) -> float | None:
        """The demo's time limit, or None after failing a run whose demo is unknown."""
        if demo_name not in self._limits:
            assert self._lookup is not None, "the pool is not started"
            try:
                self._limits[demo_name] = float(self._lookup(demo_name).time_limit_s)
            except Exception as exc:
                fail_run(self._engine, run_id, describe_error(exc))
                return None
        return self._limits[demo_name]
