"""Demo runs at scale: Celery with a Redis broker.

The web process sends only the run id to the ``cpu`` or ``gpu`` queue (by the device the
user picked; ``auto`` goes to ``cpu`` unless a GPU worker is the only kind). Workers
(``interview-lab worker --queue cpu``) take runs from their queue and write progress and
results to the shared database (PostgreSQL in this mode) through ``execute``.

Acknowledgement comes after the run (``acks_late``) and a task whose worker process
dies is rejected back to the queue (``task_reject_on_worker_lost``): a worker killed
mid-run leaves the message to another worker. The run row is claimed only while it is
``queued``; a run left ``running`` by a dead worker is failed by ``reap_stale`` once its
heartbeat stops, so no run stays running forever.

A queued run nobody holds is sent again: the web process sweeps every ``runs_sweep_s``
for queued runs never sent (the queue was down when they were queued, or a worker found
their user at the running cap) or sent ``runs_resend_after_s`` ago and still not
claimed (a message lost with a Redis that restarted without persistence), and sends
them, fairly between users (``app.runs.fairness``). A duplicate message is harmless: the
claim is conditional, so a second copy finds the run no longer queued and does nothing.
Messages already in Redis are taken in the order they were sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
import time
from functools import cache

from celery import Celery

from app.config import Settings, get_settings
from app.db import make_engine, make_sessionmaker
from app.models import DemoRun
from app.models.base import utcnow
from app.runs import lifecycle
from app.runs.fairness import next_runs

log = logging.getLogger(__name__)
TASK_NAME = "interview_lab.run_demo"
# A running run whose heartbeat is older than this has lost its worker.
STALE_AFTER = dt.timedelta(minutes=2)
QUEUES = ("cpu", "gpu")


def make_celery(settings: Settings) -> Celery:
    app = Celery("interview_lab", broker=settings.redis_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="cpu",
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        # A hard limit above any demo's own limit: the demo's limit is enforced by the
        # soft time limit, this one only catches a stuck worker process.
        task_time_limit=15 * 60,
        worker_hijack_root_logger=False,
    )
    app.task(name=TASK_NAME)(run_demo)
    return app


@cache
def _worker_settings() -> Settings:
    return get_settings()


def run_demo(run_id: int) -> str:
    """The Celery task: execute the run whose id came through the queue. Whatever stops
    it (even the soft time limit before the run was claimed) leaves the run failed, not
    queued or running."""
    from app.worker.execute import describe_error, execute, fail_run, run_status

    settings = _worker_settings()
    engine = make_engine(settings)
    try:
        return execute(
            run_id,
            engine=engine,
            find_demo=settings.demo_lookup,
            worker_host=socket.gethostname(),
            running_cap=settings.runs_running_cap,
        )
    except Exception as exc:
        fail_run(engine, run_id, describe_error(exc))
        return run_status(engine, run_id)
    finally:
        engine.dispose()


def queue_for(device_requested: str) -> str:
    return "gpu" if device_requested == "gpu" else "cpu"


class CeleryDispatcher:
    """Sends run ids to the Celery queue that matches the device asked for. In the
    background (from ``start``): sends queued runs nobody holds (``sweep``) every
    ``settings.runs_sweep_s`` s, and fails runs whose worker stopped sending heartbeats
    (``reap_stale``) every ``reap_every`` s."""

    def __init__(self, settings: Settings, reap_every: float = 30.0) -> None:
        self.settings = settings
        self.app = make_celery(settings)
        self.engine = make_engine(settings)
        self.reap_every = reap_every
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

    def start(self) -> None:
        self._reaper = threading.Thread(target=self._loop, name="run-sweeper", daemon=True)
        self._reaper.start()

    def _loop(self) -> None:
        next_reap = 0.0
        while True:
            try:
                self.sweep()
            except Exception:  # a database hiccup must not end the sweeper for good
                log.exception("sending queued runs failed; trying again later")
            if time.monotonic() >= next_reap:
                next_reap = time.monotonic() + self.reap_every
                try:
                    lifecycle.reap_stale(self.engine, older_than=STALE_AFTER, now=utcnow())
                except Exception:
                    log.exception("reaping stale runs failed; trying again later")
            if self._stop.wait(self.settings.runs_sweep_s):
                return

    def sweep(self) -> list[int]:
        """Send the queued runs nobody holds, fairly between users; the ids sent. Stops
        at the first send that fails (the queue is down: the next sweep tries again)."""
        now = utcnow()
        sent_before = now - dt.timedelta(seconds=self.settings.runs_resend_after_s)
        sent: list[int] = []
        for run in next_runs(
            self.engine, running_cap=self.settings.runs_running_cap, sent_before=sent_before
        ):
            if not lifecycle.take_for_resend(self.engine, run.id, now=now, sent_before=sent_before):
                continue  # claimed, cancelled or sent by another web process meanwhile
            try:
                self._send(run.id, run.demo, run.device_requested)
            except Exception as exc:
                lifecycle.mark_unsent(self.engine, run.id)
                log.warning("queued runs wait: the queue is down (%s)", exc)
                break
            sent.append(run.id)
        if sent:
            log.info("sent %d queued runs to the queue: %s", len(sent), sent)
        return sent

    def submit(self, run_id: int) -> None:
        with make_sessionmaker(self.engine)() as session:
            run = session.get(DemoRun, run_id)
            device, demo_name = (run.device_requested, run.demo) if run else ("auto", "")
        lifecycle.mark_dispatched(self.engine, run_id, now=utcnow())
        try:
            self._send(run_id, demo_name, device)
        except Exception:
            lifecycle.mark_unsent(self.engine, run_id)
            raise

    def _send(self, run_id: int, demo_name: str, device: str) -> None:
        limit = self._time_limit(demo_name)
        self.app.send_task(
            TASK_NAME,
            args=[run_id],
            queue=queue_for(device),
            # The demo's own limit: past it the task gets SoftTimeLimitExceeded and the
            # run is marked failed; the hard limit only catches a task that ignores it.
            soft_time_limit=limit,
            time_limit=limit + 30,
        )

    def _time_limit(self, demo_name: str) -> float:
        from app.worker.execute import resolve_lookup

        try:
            return float(resolve_lookup(self.settings.demo_lookup)(demo_name).time_limit_s)
        except Exception:  # an unknown demo fails in the worker, with its message
            return 60.0

    def stop(self) -> None:
        self._stop.set()
        if self._reaper is not None:
            self._reaper.join(timeout=5)
        self.engine.dispose()
