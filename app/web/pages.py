"""HTML pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.content.queries import chapter_summaries
from app.web.deps import SessionDep, TemplatesDep

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, templates: TemplatesDep) -> HTMLResponse:
    chapters = chapter_summaries(session=session)
    return templates.TemplateResponse(request, "home.html", {"chapters": chapters})
