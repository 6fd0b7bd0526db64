"""The runs the claims need: one for each (demo, params) of every seed × setting of the
live claims' checks that has no usable run at the demo's current code version. Here, not
in ``app.claims``, because only ``app.runs.lifecycle`` creates runs and claims sit below
runs. ``cited`` and ``not-measurable-here`` checks queue nothing (a GPU measurement comes
from a GPU worker's run, e.g. scripts/gpu-check.sh)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.claims.evidence import RunKey, check_keys, claim_checks, evidence_runs
from app.models import Claim
from app.models.runs import IN_FLIGHT, RunStatus
from app.runs import lifecycle


def queue_claim_runs(*, session: Session, now: dt.datetime, force: bool = False) -> list[int]:
    """Queue one run for each (demo, params) the live claims need that has no succeeded
    or in-flight run at the demo's current code version (every one, with ``force``);
    returns the new runs' ids (the caller dispatches them). A failed run is retried.
    Runs queued for claims belong to no user."""
    claims = list(session.scalars(select(Claim).where(Claim.archived_at.is_(None))))
    checks = [c for claim in claims for c in claim_checks(claim).checks if c.queued]
    runs = evidence_runs(session, checks)
    queued: dict[RunKey, int] = {}
    for check in checks:
        keys = check_keys(check) or []
        for key, spec in zip(keys, check.runs, strict=False):
            if key in queued:
                continue
            run = runs.get(key)
            if run is not None and run.status in (RunStatus.SUCCEEDED, *IN_FLIGHT) and not force:
                continue
            queued[key] = lifecycle.queue_unowned_run(
                session=session,
                demo=key[0],
                params=spec.params,
                params_hash=spec.params_hash,
                code_version=key[2],
                now=now,
            )
    session.commit()
    return list(queued.values())
