"""The Sources page (issue 18): upload markdown files or an archive, see the import
report (questions per file, ``file:line: message`` problems, counts per company, stage
and tag) before confirming; the list of sources with re-import and remove.

- ``GET /sources``: the list and the upload form;
- ``POST /sources/upload``: stage the files and show the dry run's report;
- ``POST /sources/confirm``: import the staged upload;
- ``POST /sources/{name}/reimport`` and ``/remove``.

Every post carries the CSRF token; an upload is bounded (``app.sources.uploads``). With
accounts on, the page only lists: the bank is shared, so it changes from the server's
command line.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from app.bank import BankReport
from app.content.names import merges
from app.errors import AppError, Forbidden
from app.sources import uploads
from app.sources.fetch import SourceError
from app.sources.service import list_sources, remove_source
from app.web.csrf import verify_csrf
from app.web.deps import CurrentUserDep, SessionDep, SettingsDep, TemplatesDep


def local_only(settings: SettingsDep) -> None:
    """With accounts on, the bank is shared by every user: no one changes its sources
    from the browser (the command line on the server does)."""
    if settings.accounts:
        raise Forbidden(
            "with accounts on, sources are added and removed with interview-lab import "
            "on the server"
        )


router = APIRouter(include_in_schema=False)
CsrfDep = Depends(verify_csrf)
LocalDep = Depends(local_only)


def _page(
    request: Request,
    templates: TemplatesDep,
    session: SessionDep,
    *,
    report: BankReport | None = None,
    staged: uploads.Staged | None = None,
    done: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    context = {
        "section": "sources",
        "sources": list_sources(session=session),
        "report": report,
        "merges": (merges(report.company_names) + report.tag_merges) if report else [],
        "staged": staged,
        "done": done,
        "error": error,
        "max_mib": uploads.MAX_UPLOAD_BYTES // 2**20,
        "max_files": uploads.MAX_UPLOAD_FILES,
        "can_change": not request.app.state.settings.accounts,
    }
    return templates.TemplateResponse(request, "sources.html", context, status_code=status)


@router.get("/sources", response_class=HTMLResponse)
def sources_page(
    request: Request, session: SessionDep, templates: TemplatesDep, user: CurrentUserDep
) -> Response:
    return _page(request, templates, session)


@router.post("/sources/upload", dependencies=[CsrfDep, LocalDep], response_class=HTMLResponse)
async def upload(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    files: Annotated[list[UploadFile], File()],
    name: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        read: list[tuple[str, bytes]] = []
        total = 0
        for file in files[: uploads.MAX_UPLOAD_FILES + 1]:
            data = await file.read(uploads.MAX_UPLOAD_BYTES + 1 - total)
            total += len(data)
            read.append((file.filename or "", data))
        if total > uploads.MAX_UPLOAD_BYTES or len(files) > uploads.MAX_UPLOAD_FILES:
            raise SourceError(
                f"at most {uploads.MAX_UPLOAD_FILES} files and "
                f"{uploads.MAX_UPLOAD_BYTES // 2**20} MiB at once",
                field="files",
            )
        staged = uploads.stage(read, data_dir=settings.data_dir, name=name)
        report = uploads.check_staged(
            staged.folder, session=session, content_dir=settings.content_dir
        )
    except AppError as exc:
        return _page(request, templates, session, error=exc.text, status=exc.status_code)
    return _page(request, templates, session, report=report, staged=staged)


@router.post("/sources/confirm", dependencies=[CsrfDep, LocalDep], response_class=HTMLResponse)
def confirm(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    token: Annotated[str, Form(max_length=64)],
    kind: Annotated[str, Form(pattern="^(upload|archive)$")],
    origin: Annotated[str, Form(max_length=500)],
) -> Response:
    now = dt.datetime.now(dt.UTC)
    try:
        report = uploads.confirm(
            token,
            session=session,
            data_dir=settings.data_dir,
            content_dir=settings.content_dir,
            kind=kind,
            origin=origin,
            now=now,
        )
    except AppError as exc:
        session.rollback()
        return _page(request, templates, session, error=exc.text, status=exc.status_code)
    return _finish(request, templates, session, report)


def _finish(
    request: Request, templates: TemplatesDep, session: SessionDep, report: BankReport
) -> Response:
    if not report.ok:
        session.rollback()
        return _page(request, templates, session, report=report, status=422)
    session.commit()
    return _page(request, templates, session, report=report, done="imported")


@router.post(
    "/sources/{name}/reimport", dependencies=[CsrfDep, LocalDep], response_class=HTMLResponse
)
def reimport(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    name: str,
) -> Response:
    now = dt.datetime.now(dt.UTC)
    try:
        report = uploads.reimport(
            name,
            session=session,
            data_dir=settings.data_dir,
            content_dir=settings.content_dir,
            now=now,
        )
    except AppError as exc:
        session.rollback()
        return _page(request, templates, session, error=exc.text, status=exc.status_code)
    return _finish(request, templates, session, report)


@router.post(
    "/sources/{name}/remove", dependencies=[CsrfDep, LocalDep], response_class=HTMLResponse
)
def remove(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    name: str,
) -> Response:
    try:
        remove_source(session=session, name=name, now=dt.datetime.now(dt.UTC))
    except AppError as exc:
        session.rollback()
        return _page(request, templates, session, error=exc.text, status=exc.status_code)
    session.commit()
    return _page(request, templates, session, done="removed")
