"""Demo pages: the catalogue, a page per demo with a form generated from its parameter
model, and a permalink page per run with live progress (server-sent events)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.content.answers import demo_inputs
from app.demos import get_demo, registry
from app.demos.base import params_schema, run_version
from app.errors import AppError
from app.runs import service
from app.runs.dispatch import dispatch
from app.web.csrf import verify_csrf
from app.web.deps import CurrentUserDep, IdPath, SessionDep, SettingsDep, TemplatesDep

router = APIRouter(include_in_schema=False)
CsrfDep = Depends(verify_csrf)


@router.get("/demos", response_class=HTMLResponse)
def catalogue(request: Request, templates: TemplatesDep) -> Response:
    return templates.TemplateResponse(request, "demos.html", {"demos": list(registry().values())})


def _demo_page(
    request: Request,
    templates: TemplatesDep,
    session: SessionDep,
    name: str,
    values: dict[str, Any] | None = None,
    error: str = "",
    error_field: str | None = None,
    status: int = 200,
) -> Response:
    demo = get_demo(name)
    schema = params_schema(demo)
    current = {p["name"]: p.get("default") for p in schema} | (values or {})
    context = {
        "demo": demo,
        "schema": schema,
        "values": current,
        "error": error,
        "error_field": error_field,
        "runs": service.recent_runs(session=session, demo_name=demo.name, limit=10),
    }
    return templates.TemplateResponse(request, "demo.html", context, status_code=status)


@router.get("/demos/{name}", response_class=HTMLResponse)
def demo_page(
    request: Request, name: str, templates: TemplatesDep, session: SessionDep
) -> Response:
    # Query parameters prefill the form: a claim's "open the demo" link uses them.
    values = dict(request.query_params.items())
    return _demo_page(request, templates, session, name, values)


@router.post("/demos/{name}/runs", dependencies=[CsrfDep])
async def run_form(
    request: Request,
    name: str,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    settings: SettingsDep,
) -> Response:
    form = await request.form()
    demo = get_demo(name)
    raw: dict[str, Any] = {}
    for param in params_schema(demo):
        key = param["name"]
        if param["type"] == "boolean":
            raw[key] = form.get(key) == "true"
        elif key in form and str(form[key]) != "":
            raw[key] = str(form[key])  # pydantic converts "12" to 12 and "0.5" to 0.5
    try:
        run, cached = service.create_run(
            session=session,
            user=user,
            demo_name=name,
            raw_params=raw,
            device=str(form.get("device") or "auto"),
            rerun=form.get("rerun") == "true",
            now=dt.datetime.now(dt.UTC),
            queued_cap=settings.runs_queued_cap,
            per_minute=settings.runs_per_minute,
        )
    except AppError as exc:
        session.rollback()
        return _demo_page(
            request, templates, session, name, raw, exc.text, exc.field, exc.status_code
        )
    if not cached:
        dispatch(request.app.state.dispatcher, request.app.state.engine, run.id)
    suffix = "?cached=1" if cached else ""
    return RedirectResponse(f"/runs/{run.id}{suffix}", status_code=303)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request, run_id: IdPath, session: SessionDep, templates: TemplatesDep, cached: int = 0
) -> Response:
    run = service.get_run(session=session, run_id=run_id)
    demo = get_demo(run.demo)
    context = {
        "run": run,
        "demo": demo,
        "cached": bool(cached),
        "finished": run.status in service.FINISHED,
        "stale": run.code_version != run_version(demo, demo_inputs(demo.inputs)),
    }
    return templates.TemplateResponse(request, "run.html", context)
