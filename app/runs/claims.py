"""The runs the claims need: one for each (demo, params) of the live claims that has no
usable run at the demo's current code version. Here, not in ``app.claims``, because only
``app.runs.lifecycle`` creates runs and claims sit below runs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.claims.service import RunKey, evidence_runs, run_key
from app.models import Claim
from app.models.runs import IN_FLIGHT, RunStatus
from app.runs import lifecycle


def queue_claim_runs(*, session: Session, now: dt.datetime, force: bool = False) -> list[int]:
    """Queue one run for each (demo, params) of the live claims that has no succeeded or
    in-flight run at the demo's current code version (every one, with ``force``); returns
    the new runs' ids (the caller dispatches them). A failed run is retried. Runs queued
    for claims belong to no user."""
    claims = list(session.scalars(select(Claim).where(Claim.archived_at.is_(None))))
    runs = evidence_runs(session, claims)
    queued: dict[RunKey, int] = {}
    for claim in claims:
        key = run_key(claim)
        if key is None or key in queued:
            continue
        run = runs.get(key)
        if run is not None and run.status in (RunStatus.SUCCEEDED, *IN_FLIGHT) and not force:
            continue
        queued[key] = lifecycle.queue_unowned_run(
            session=session,
            demo=claim.demo,
            params=claim.params,
            params_hash=claim.params_hash,
            code_version=key[2],
            now=now,
        )
    session.commit()
    return list(queued.values())
