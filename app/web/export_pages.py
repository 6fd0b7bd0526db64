"""Export and import: the "Your data" page, its downloads and upload, and the same in the API.

Pages (``/data``, its links and form):

- ``GET /export/anki.apkg?<filters>``: the bank, or the questions under the browse page's
  filters (same query string as ``/questions``), as an Anki deck (``app.export.anki``)
  with the user's notes and own answers in it, built once per bank version (and notes)
  and streamed from a file (``app.export.anki_cache``);
- ``GET /export/data.json``: the user's study data as a JSON download;
- ``POST /import/data``: a multipart upload of such a file (CSRF token, ``replace``
  checkbox); the page shows what was imported, or why nothing was.

API (``/api``, in ``/docs``): ``GET /api/export/anki.apkg``, ``GET /api/export/data``
(the file as JSON), ``POST /api/import/data?replace=true`` (the file as the JSON body).

Every export needs the current user, so with accounts on they all need sign-in (an
export costs seconds of CPU on a big bank). An upload is bounded by ``MAX_UPLOAD``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Body, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from app.content.filters import QuestionFilter
from app.errors import AppError, PayloadTooLarge
from app.export import anki, anki_cache, userdata
from app.i18n import mark as N_
from app.models import User
from app.web.csrf import same_origin, verify_csrf
from app.web.deps import CurrentUserDep, FilterDep, SessionDep, SettingsDep, TemplatesDep
from app.web.templating import filter_url

MAX_UPLOAD = 64 * 1024 * 1024  # bytes of a user-data upload
STREAM_CHUNK = 1024 * 1024

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["export"], dependencies=[Depends(same_origin)])
router = APIRouter()
CsrfDep = Depends(verify_csrf)
APKG_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {anki.MEDIA_TYPE: {}}, "description": "The Anki deck (.apkg)"},
    401: {"description": "Not signed in (accounts on)"},
    422: {"description": "No question matches the filters"},
}


class ImportSummaryPublic(BaseModel):
    cards: int
    review_logs: int
    quizzes: int
    interviews: int
    notes: int = Field(description="Questions with your notes or own answer")
    mock_interviews: int = Field(description="Mock interviews, with their answers and grades")
    replaced: bool = Field(description="True when the user's previous data was replaced")
    skipped_records: int = Field(description="Records of questions this bank does not have")
    unknown_questions: list[str]


def _attachment(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(STREAM_CHUNK):
            yield chunk


def _anki(session: SessionDep, settings: SettingsDep, flt: QuestionFilter, user: User) -> Response:
    folder = anki_cache.cache_dir(settings.data_dir)
    now = dt.datetime.now(dt.UTC)
    handle, _count = anki_cache.open_deck(
        session=session, flt=flt, folder=folder, now=now, user=user
    )
    size = str(handle.seek(0, 2))
    handle.seek(0)
    filename = anki.apkg_filename(flt)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Content-Length": size}
    return StreamingResponse(_chunks(handle), media_type=anki.MEDIA_TYPE, headers=headers)


def _size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit} bytes"


def _summary_public(summary: userdata.ImportSummary) -> ImportSummaryPublic:
    return ImportSummaryPublic(
        cards=summary.cards,
        review_logs=summary.review_logs,
        quizzes=summary.quizzes,
        interviews=summary.interviews,
        notes=summary.notes,
        mock_interviews=summary.mock_interviews,
        replaced=summary.replaced,
        skipped_records=summary.skipped_records,
        unknown_questions=list(summary.unknown_questions),
    )


def _page(
    request: Request,
    templates: TemplatesDep,
    session: SessionDep,
    user: User,
    flt: QuestionFilter,
    *,
    summary: userdata.ImportSummary | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    context = {
        "flt": flt,
        "anki_url": filter_url("/export/anki.apkg", flt),
        "counts": userdata.existing_counts(session=session, user=user),
        "summary": summary,
        "error": error,
    }
    return templates.TemplateResponse(request, "data.html", context, status_code=status)


@pages.get("/data", response_class=HTMLResponse)
def data_page(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    flt: FilterDep,
) -> Response:
    return _page(request, templates, session, user, flt)


@pages.get("/export/anki.apkg")
def anki_download(
    session: SessionDep, settings: SettingsDep, user: CurrentUserDep, flt: FilterDep
) -> Response:
    return _anki(session, settings, flt, user)


@pages.get("/export/data.json")
def data_download(session: SessionDep, user: CurrentUserDep) -> Response:
    now = dt.datetime.now(dt.UTC)
    text = userdata.dumps(userdata.export_user_data(session=session, user=user, now=now))
    filename = f"interview-lab-{user.username}-{now.date().isoformat()}.json"
    return _attachment(text.encode("utf-8"), "application/json", filename)


@pages.post("/import/data", dependencies=[CsrfDep], response_class=HTMLResponse)
def import_upload(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    file: Annotated[UploadFile, File()],
    replace: Annotated[bool, Form()] = False,
) -> Response:
    try:
        raw = file.file.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            raise PayloadTooLarge(
                N_("the file is larger than %(size)s"), field="file", size=_size(MAX_UPLOAD)
            )
        data = userdata.parse_user_data(userdata.loads(raw))
        summary = userdata.import_user_data(session=session, user=user, data=data, replace=replace)
    except AppError as exc:
        session.rollback()
        return _page(
            request,
            templates,
            session,
            user,
            QuestionFilter(),
            error=exc.text,
            status=exc.status_code,
        )
    return _page(request, templates, session, user, QuestionFilter(), summary=summary)


@api.get("/export/anki.apkg", response_class=Response, responses=APKG_RESPONSE)
def anki_api(
    session: SessionDep, settings: SettingsDep, user: CurrentUserDep, flt: FilterDep
) -> Response:
    """The active questions under the filters (all by default) as an Anki deck: one
    note per question, stable GUIDs, tags ``company::X``, ``stage::Y``, ``topic::Z``;
    your notes and own answers in the cards' backs. Needs sign-in when accounts are on."""
    return _anki(session, settings, flt, user)


@api.get("/export/data", responses={200: {"model": userdata.UserData}})
def data_api(session: SessionDep, user: CurrentUserDep) -> JSONResponse:
    """The user's settings, cards, review log, quizzes, interviews, notes and mock
    interviews (format version 3); ``POST /api/import/data`` reads it back."""
    now = dt.datetime.now(dt.UTC)
    return JSONResponse(userdata.export_user_data(session=session, user=user, now=now))


@api.post("/import/data")
def import_api(
    session: SessionDep,
    user: CurrentUserDep,
    body: Annotated[dict[str, Any], Body(description="A file from GET /api/export/data")],
    replace: Annotated[
        bool, Query(description="Replace the study data the user already has")
    ] = False,
) -> ImportSummaryPublic:
    """Import a user-data file into the current user, all or nothing. 422 for a file that
    is not ours, from a newer version, or invalid (naming the field); 409 when the user
    has data and ``replace`` is not set. Records of questions this bank lacks are skipped
    and counted."""
    data = userdata.parse_user_data(body)
    summary = userdata.import_user_data(session=session, user=user, data=data, replace=replace)
    return _summary_public(summary)


router.include_router(pages)
router.include_router(api)
