"""The JSON API for demos and their runs, with live progress as server-sent events."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from app.demos import get_demo, registry
from app.demos.base import params_schema
from app.i18n import current_language, translations
from app.models import DemoRun
from app.runs import service
from app.runs.dispatch import dispatch
from app.web.csrf import same_origin
from app.web.demo_metrics import metric_labels
from app.web.deps import CurrentUserDep, IdPath, SessionDep, SettingsDep
from app.web.schemas import ErrorPublic

router = APIRouter(prefix="/api", tags=["demos"], dependencies=[Depends(same_origin)])
POLL_SECONDS = 0.3


class DemoPublic(BaseModel):
    name: str
    title: str  # in ``language``
    summary: str  # markdown with TeX math, in ``language``
    language: str
    claims: list[str]
    params: list[dict[str, Any]]
    time_limit_s: float


class RunCreate(BaseModel):
    params: dict[str, Any] = Field(default_factory=dict)
    device: str = Field(default="auto", description="auto, cpu or gpu")
    rerun: bool = Field(default=False, description="Run again even if a result is stored")


class RunPublic(BaseModel):
    id: int
    demo: str
    params: dict[str, Any]
    status: str
    cached: bool = False
    device_requested: str
    device: str | None
    device_name: str | None
    torch_version: str | None
    worker_host: str | None
    progress: dict[str, Any] | None
    result: dict[str, Any] | None
    error: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    wall_seconds: float | None
    code_version: str
    permalink: str


# ?lang= chooses the language of titles and summaries; without it the request's (the
# ``lang`` cookie, else Accept-Language), as on pages. Keys and parameters stay as they are.
LangQuery = Annotated[
    Literal["en", "zh"] | None,
    Query(description="en or zh; default: the lang cookie, else Accept-Language"),
]


def demo_public(name: str, language: str = "en") -> DemoPublic:
    demo = get_demo(name)
    catalogue = translations(language)
    return DemoPublic(
        name=demo.name,
        title=catalogue.gettext(demo.title) if demo.title else demo.title,
        summary=catalogue.gettext(demo.summary) if demo.summary else demo.summary,
        language=language,
        claims=list(demo.claims),
        params=params_schema(demo),
        time_limit_s=demo.time_limit_s,
    )


def run_public(run: DemoRun, cached: bool = False) -> RunPublic:
    return RunPublic(
        id=run.id,
        demo=run.demo,
        params=run.params,
        status=run.status,
        cached=cached,
        device_requested=run.device_requested,
        device=run.device,
        device_name=run.device_name,
        torch_version=run.torch_version,
        worker_host=run.worker_host,
        progress=run.progress,
        result=run.result,
        error=run.error,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        wall_seconds=run.wall_seconds,
        code_version=run.code_version,
        permalink=f"/runs/{run.id}",
    )


@router.get("/demos")
def list_demos(lang: LangQuery = None) -> list[DemoPublic]:
    """The demo catalogue, with each parameter's type, default and bounds."""
    language = lang or current_language()
    return [demo_public(name, language) for name in registry()]


@router.get("/demos/{name}")
def get_demo_api(name: str, lang: LangQuery = None) -> DemoPublic:
    return demo_public(name, lang or current_language())


@router.post(
    "/demos/{name}/runs",
    responses={503: {"model": ErrorPublic, "description": "The run queue is down"}},
)
def create_run(
    name: str,
    body: RunCreate,
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    settings: SettingsDep,
) -> RunPublic:
    """Queue a run (or return the stored result of the same parameters and code)."""
    run, cached = service.create_run(
        session=session,
        user=user,
        demo_name=name,
        raw_params=body.params,
        device=body.device,
        rerun=body.rerun,
        now=dt.datetime.now(dt.UTC),
        queued_cap=settings.runs_queued_cap,
        per_minute=settings.runs_per_minute,
    )
    if not cached:
        dispatch(request.app.state.dispatcher, request.app.state.engine, run.id)
    return run_public(run, cached)


@router.get("/runs/{run_id}")
def get_run(run_id: IdPath, session: SessionDep) -> RunPublic:
    return run_public(service.get_run(session=session, run_id=run_id))


@router.post("/runs/{run_id}/cancel")
def cancel_run(run_id: IdPath, session: SessionDep, user: CurrentUserDep) -> RunPublic:
    """Cancel a run that has not started yet."""
    run = service.cancel_run(session=session, user=user, run_id=run_id, now=dt.datetime.now(dt.UTC))
    return run_public(run)


def _sse(event: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class EventStream(StreamingResponse):
    media_type = "text/event-stream"


EVENTS_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A text/event-stream: `progress` events (JSON data: id, step, "
        "total, metrics, labels: each metric's name in the request's language), then one "
        "`done` event (JSON data: status)",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.get("/runs/{run_id}/events", response_class=EventStream, responses=EVENTS_DOC)
async def run_events(run_id: IdPath, request: Request) -> StreamingResponse:
    """Server-sent events: ``progress`` for each report, then ``done`` with the final
    status. A reconnecting EventSource resumes after its Last-Event-ID."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    last = request.headers.get("last-event-id", "")
    after = int(last) if last.isdigit() else 0
    language = current_language()  # the request's, read before the stream starts

    def poll(after_id: int) -> tuple[str, list[dict[str, Any]]]:
        with factory() as session:
            run = service.get_run(session=session, run_id=run_id)
            events = service.events_after(session=session, run_id=run_id, after_id=after_id)
            rows = [
                {
                    "id": e.id,
                    "step": e.step,
                    "total": e.total,
                    "metrics": e.metrics,
                    "labels": metric_labels(e.metrics or {}, language),
                }
                for e in events
            ]
            return run.status, rows

    await run_in_threadpool(poll, after)  # a missing run is a 404 before the stream starts

    async def stream() -> AsyncIterator[str]:
        nonlocal after
        yield "retry: 1000\n\n"
        while True:
            status, rows = await run_in_threadpool(poll, after)
            for row in rows:
                after = row["id"]
                yield _sse("progress", row, row["id"])
            if status in service.FINISHED:
                yield _sse("done", {"status": status})
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(POLL_SECONDS)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return EventStream(stream(), headers=headers)
