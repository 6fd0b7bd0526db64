"""Demo pages: the catalogue, a page per demo with a form generated from its parameter
model, and a permalink page per run with live progress (server-sent events)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.content.answers import demo_inputs
from app.demos import get_demo, registry
from app.demos.base import params_schema, run_version
from app.demos.text import N_, Text
from app.errors import AppError, Unprocessable
from app.i18n import gettext
from app.models import DemoRun
from app.runs import service
from app.runs.dispatch import dispatch
from app.web.claims_pages import claim_context
from app.web.csrf import verify_csrf
from app.web.demo_text import plain_text
from app.web.demo_view import chart_table, params_list, parse_result, result_view
from app.web.deps import CurrentUserDep, IdPath, SessionDep, SettingsDep, TemplatesDep
from app.web.related import demo_claims, related_questions
from app.web.validation_text import with_labels

router = APIRouter(include_in_schema=False)
CsrfDep = Depends(verify_csrf)
# The form's field groups, in order; "advanced" is collapsed.
GROUPS = ("model", "method", "training", "advanced")


def gpu_seen(session: Session) -> bool | None:
    """Whether the workers have a GPU, as the latest run that could have used one shows
    (the web process never imports torch): a run that asked for a GPU or "auto" of a demo
    that uses one ran on cuda exactly when its worker had one. None: no such run yet."""
    gpu_demos = [name for name, demo in registry().items() if demo.uses_gpu]
    latest = session.scalars(
        select(DemoRun.device)
        .where(
            DemoRun.demo.in_(gpu_demos),
            DemoRun.device_requested != "cpu",
            DemoRun.device.is_not(None),
        )
        .order_by(DemoRun.started_at.desc().nulls_last(), DemoRun.id.desc())
        .limit(1)
    ).first()
    return None if latest is None else latest == "cuda"


def _as_sent(value: Any) -> str:
    """A rule's value as a form sends it: a boolean as its checkbox does ("true"/"false",
    not Python's "True"), anything else as its text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _applies(param: dict[str, Any], form: Any, types: dict[str, str]) -> bool:
    """A field with ``show_if`` applies only when the other fields hold one of its values
    (an unticked checkbox sends nothing: it holds "false")."""
    show_if: dict[str, list[Any]] = param.get("show_if") or {}
    for other, allowed in show_if.items():
        if types.get(other) == "boolean":
            value = "true" if form.get(other) == "true" else "false"
        else:
            value = str(form.get(other, ""))
        if value not in {_as_sent(a) for a in allowed}:
            return False
    return True


def form_params(demo: Any, form: Any) -> dict[str, Any]:
    """The raw parameters of a submitted form: a field that doesn't apply (``show_if``)
    is ignored, an emptied field that has a default is an error, not the default."""
    raw: dict[str, Any] = {}
    schema = params_schema(demo)
    types = {p["name"]: str(p["type"]) for p in schema}
    for param in schema:
        key = param["name"]
        if not _applies(param, form, types):
            continue
        if param["type"] == "boolean":
            raw[key] = form.get(key) == "true"
        elif key in form and str(form[key]).strip() != "":
            raw[key] = str(form[key])  # pydantic converts "12" to 12 and "0.5" to 0.5
        elif key in form and param["default"] is not None:
            raise Unprocessable(N_("%(field)s: must not be empty"), field=key)
    return raw


def error_text(exc: AppError, demo: Any) -> str:
    """A refused parameter in the reader's language, the field named by its label
    (its label as text: "行数 m", not ``m``) and a demo's own check (``ParamError``)
    translated too. The JSON API keeps ``exc.message`` (English, raw field names)."""
    if exc.field is None or "%(field)s" not in exc.template:
        return exc.text
    labels = {
        str(p["name"]): plain_text(Text(msg=p["label"]))
        for p in params_schema(demo)
        if p.get("label")
    }
    values = dict(exc.params) | {"field": labels.get(exc.field) or exc.field}
    if isinstance(values.get("input"), str | int | float):  # a form's "12", not '12'
        values["got"] = values["input"]
    msgid, args = values.get("problem_msgid"), values.get("problem_args")
    if isinstance(msgid, str) and isinstance(args, dict):
        # The other field a cross-field rule names (``at_most("steps", 50)``) by its label.
        if isinstance(args.get("name"), str):
            args = args | {"name": with_labels(args["name"], labels)}
        try:
            values["problem"] = gettext(msgid) % args
        except (KeyError, TypeError, ValueError):  # a translation that does not fit
            pass
    try:
        return gettext(exc.template) % values
    except (KeyError, TypeError, ValueError):
        return exc.text


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
    groups = [(g, [p for p in schema if p["group"] == g]) for g in GROUPS]
    context = {
        "demo": demo,
        "schema": schema,
        "groups": [(g, entries) for g, entries in groups if entries],
        "gpu_seen": gpu_seen(session),
        "related_questions": related_questions(session=session, demo=demo),
        "values": current,
        "error": error,
        "error_field": error_field,
        "runs": service.recent_runs(session=session, demo_name=demo.name, limit=10),
    } | claim_context(demo_claims(session=session, demo=demo))
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
    try:
        raw = form_params(demo, form)
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
        values = raw or {k: str(v) for k, v in form.items() if k != "csrf_token"}
        return _demo_page(
            request,
            templates,
            session,
            name,
            values,
            error_text(exc, demo),
            exc.field,
            exc.status_code,
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
    result = parse_result(run.result)
    context = {
        "run": run,
        "demo": demo,
        "view": result_view(result) if result else None,
        "params": params_list(demo, run.params),
        "chart_table": chart_table,
        # A GPU was asked for but the worker had none: the run page says so.
        "no_gpu": run.device_requested == "gpu" and run.device == "cpu",
        "cached": bool(cached),
        "finished": run.status in service.FINISHED,
        "stale": run.code_version != run_version(demo, demo_inputs(demo.inputs)),
    }
    return templates.TemplateResponse(request, "run.html", context)
