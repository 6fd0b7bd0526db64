"""The Sources page (issue 18): upload markdown files or an archive, see the import
report (questions per file, ``file:line: message`` problems, counts per company, stage
and tag) before confirming; the list of sources with re-import and remove.

- ``GET /sources``: the list and the upload form; ``?report=<name>``: with that source's
  last import report, ``?removed=<name>``: with the notice of its removal;
- ``POST /sources/upload``: stage the files and show the dry run's report;
- ``POST /sources/confirm``: import the staged upload;
- ``POST /sources/{name}/reimport`` and ``/remove``.

A write that worked redirects (303) to a ``GET``, so reloading the page never posts the
form again; a refused one answers with the page and its reason (nothing was written).

Every post carries the CSRF token; an upload is bounded (``app.sources.uploads``). With
accounts on, the page only lists: the bank is shared, so it changes from the server's
command line.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message

from app.bank import BankReport
from app.content.importer import UNKNOWN
from app.errors import AppError, Forbidden
from app.i18n import mark as _
from app.sources import uploads
from app.sources.outcome import ImportOutcome
from app.sources.service import bank_questions, last_import, list_sources, remove_source
from app.web.csrf import verify_csrf
from app.web.deps import CurrentUserDep, SessionDep, SettingsDep, TemplatesDep


def local_only(settings: SettingsDep) -> None:
    """With accounts on, the bank is shared by every user: no one changes its sources
    from the browser (the command line on the server does)."""
    if settings.accounts:
        raise Forbidden(
            _(
                "with accounts on, sources are added and removed with interview-lab import "
                "on the server"
            )
        )


# Room in a form's body beyond the files' bytes: part headers, the name, the token.
FORM_OVERHEAD = 1024 * 1024
router = APIRouter(include_in_schema=False)
CsrfDep = Depends(verify_csrf)
LocalDep = Depends(local_only)


def _page(
    request: Request,
    templates: TemplatesDep,
    session: SessionDep,
    *,
    report: ImportOutcome | None = None,
    source: str = "",
    staged: uploads.Staged | None = None,
    removed: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    context = {
        "section": "sources",
        "sources": list_sources(session=session),
        "bank_questions": bank_questions(session=session),
        "report": report,
        "source": source,
        "staged": staged,
        "removed": removed,
        "error": error,
        "max_mib": uploads.MAX_UPLOAD_BYTES // 2**20,
        "max_files": uploads.MAX_UPLOAD_FILES,
        "can_change": not request.app.state.settings.accounts,
        "unknown": UNKNOWN,
    }
    return templates.TemplateResponse(request, "sources.html", context, status_code=status)


@router.get("/sources", response_class=HTMLResponse)
def sources_page(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    report: Annotated[str, Query(max_length=200)] = "",
    removed: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The list; ``report``: a source's last import report, ``removed``: the notice
    that a source was removed (where a successful post redirects)."""
    if not report:
        return _page(request, templates, session, removed=removed)
    try:
        outcome = last_import(session=session, name=report)
    except AppError as exc:
        return _page(request, templates, session, error=exc.text, status=exc.status_code)
    return _page(request, templates, session, report=outcome, source=report)


def _see(key: str, source: str, anchor: str) -> Response:
    """After a write that worked: the Sources page with ``?key=source``, at ``anchor``."""
    return RedirectResponse(f"/sources?{key}={quote(source, safe='')}#{anchor}", status_code=303)


def _bounded(request: Request, limit: int) -> Request:
    """``request`` whose body may not exceed ``limit`` bytes: a ``Content-Length`` over
    it is refused before anything is read, and reading stops at the first chunk past it
    when the length is absent or lies (``PayloadTooLarge``, 413)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise uploads.too_large()
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise uploads.too_large()
        return message

    return Request(request.scope, receive)


async def _read_upload(request: Request) -> tuple[list[tuple[str, bytes]], str]:
    """The uploaded files and the source's name from a bounded form (CSRF checked)."""
    bounded = _bounded(request, uploads.MAX_UPLOAD_BYTES + FORM_OVERHEAD)
    try:
        form = await bounded.form(max_files=uploads.MAX_UPLOAD_FILES + 1)
    except StarletteHTTPException:  # starlette's own limits (files, fields)
        raise uploads.too_many() from None
    try:
        await verify_csrf(bounded)
        # An input left empty sends a part with no file name: not a file.
        files = [
            f for f in form.getlist("files") if isinstance(f, StarletteUploadFile) and f.filename
        ]
        if len(files) > uploads.MAX_UPLOAD_FILES:
            raise uploads.too_many()
        read = [(f.filename or "", await f.read()) for f in files]
        name = form.get("name")
        return read, name[:100] if isinstance(name, str) else ""
    finally:
        await form.close()  # the spooled files (FastAPI closes only the forms it parsed)


@router.post("/sources/upload", dependencies=[LocalDep], response_class=HTMLResponse)
async def upload(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    settings: SettingsDep,
    user: CurrentUserDep,
) -> Response:
    """The form is read here, not by FastAPI, so its size is bounded while it arrives."""
    try:
        read, name = await _read_upload(request)
    except Forbidden:
        raise  # a missing CSRF token: the error page, as every form post
    except AppError as exc:
        return _page(request, templates, session, error=exc.text, status=exc.status_code)
    try:
        staged = uploads.stage(read, data_dir=settings.data_dir, name=name)
        report = uploads.check_staged(
            staged.folder, session=session, content_dir=settings.content_dir
        )
    except AppError as exc:
        return _page(request, templates, session, error=exc.text, status=exc.status_code)
    return _page(request, templates, session, report=ImportOutcome.of(report), staged=staged)


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
        report, name = uploads.confirm(
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
    return _finish(request, templates, session, report, name)


def _finish(
    request: Request, templates: TemplatesDep, session: SessionDep, report: BankReport, name: str
) -> Response:
    """Commit an import that worked and show its report by a redirect; show the errors
    of one that did not (nothing is written)."""
    if not report.ok:
        session.rollback()
        return _page(request, templates, session, report=ImportOutcome.of(report), status=422)
    session.commit()
    return _see("report", name, "report")


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
    return _finish(request, templates, session, report, name)


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
    return _see("removed", name, "source-done")
