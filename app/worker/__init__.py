"""The run queue: it carries only a run id; the run's row is the truth.

Two transports share :func:`app.worker.execute.execute`, which claims a queued run,
runs its demo and writes progress, result or error back to the row:

- :class:`app.worker.pool.LocalPool`, local worker processes that ``serve`` starts
  (the embedded default);
- Celery workers through Redis (at scale).

Importing this package (or ``app.worker.pool``) never imports torch: only the worker
processes load it, inside the functions that run a demo.
"""
