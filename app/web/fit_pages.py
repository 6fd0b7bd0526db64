"""The settings page's "Fit to my reviews" section (``app.study.fit`` does the work).

- ``POST /settings/fit``: start a fit (CSRF form); its run goes to the demo workers.
- ``GET /settings/fit``: the section alone, which the page polls while the fit runs (a
  browser opening it as a page is sent to ``/settings#fit``).
- ``POST /settings/fit/{id}/apply``: use that fit's parameters from now on.
- ``POST /settings/fit/reset``: back to fsrs's default parameters.

Each form redirects back to ``/settings#fit``. The web process never imports torch: the
fit's run is queued here and runs in a worker.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.runs.dispatch import dispatch
from app.study import fit
from app.web.csrf import verify_csrf
from app.web.deps import CurrentUserDep, IdPath, SessionDep, SettingsDep, TemplatesDep

router = APIRouter(include_in_schema=False)
CsrfDep = Depends(verify_csrf)
BACK = "/settings#fit"


@router.post("/settings/fit", dependencies=[CsrfDep])
def start_fit(
    request: Request, session: SessionDep, user: CurrentUserDep, settings: SettingsDep
) -> Response:
    started, queued = fit.start_fit(
        session=session,
        user=user,
        now=dt.datetime.now(dt.UTC),
        queued_cap=settings.runs_queued_cap,
        per_minute=settings.runs_per_minute,
    )
    if queued and started.run_id is not None:
        dispatch(request.app.state.dispatcher, request.app.state.engine, started.run_id)
    return RedirectResponse(BACK, status_code=303)


@router.get("/settings/fit", response_class=HTMLResponse)
def fit_section(
    request: Request, session: SessionDep, user: CurrentUserDep, templates: TemplatesDep
) -> Response:
    if request.headers.get("sec-fetch-dest") == "document":
        # Opened as a page (typed, bookmarked): the settings page holds the section; the
        # bare fragment had no styles, no language and black text on a dark theme.
        return RedirectResponse(BACK, status_code=303)
    context = {"user": user, "fit": fit.fit_view(session=session, user=user)}
    return templates.TemplateResponse(request, "_fsrs_fit.html", context)


@router.post("/settings/fit/{fit_id}/apply", dependencies=[CsrfDep])
def apply_fit(fit_id: IdPath, session: SessionDep, user: CurrentUserDep) -> Response:
    fit.apply_fit(session=session, user=user, fit_id=fit_id, now=dt.datetime.now(dt.UTC))
    return RedirectResponse(BACK, status_code=303)


@router.post("/settings/fit/reset", dependencies=[CsrfDep])
def reset_parameters(session: SessionDep, user: CurrentUserDep) -> Response:
    fit.reset_parameters(session=session, user=user)
    return RedirectResponse(BACK, status_code=303)
