"""The home page: today's counts, the plan toward the nearest interview, the chapters.

The one page ``app.main`` routes from the start: the first page a user opens after
``serve``, so it imports only what it renders (the other pages' routers load after it,
``app.web.lazy_routes``)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.content.filters import QuestionFilter
from app.content.queries import chapter_summaries
from app.study.interviews import plan_overview
from app.study.review import queue_counts
from app.web.deps import CurrentUserDep, SessionDep, TemplatesDep
from app.web.plan_view import plan_context

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, session: SessionDep, templates: TemplatesDep, user: CurrentUserDep
) -> Response:
    now = dt.datetime.now(dt.UTC)
    counts = queue_counts(session=session, user=user, flt=QuestionFilter(), now=now)
    chapters = chapter_summaries(session=session)
    overview = plan_overview(session=session, user=user, now=now)
    context = plan_context(overview) | {"chapters": chapters, "counts": counts}
    return templates.TemplateResponse(request, "home.html", context)
