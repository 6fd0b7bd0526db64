"""The start-up bench's floor (``bench/startup_bench.py`` starts it beside ``serve``): the
least an app of this shape does to serve the same first page. A bare FastAPI app with
one route, SQLAlchemy's ORM over three of the app's tables (mapped here, a few columns
each) in the same SQLite file, and a Jinja template from a string; it runs the home
page's main queries (the chapters with their question counts, as
``app.content.queries.chapter_summaries`` runs it, and the count of cards due), renders
them, and is served by uvicorn, as ``serve`` serves the app.

What it leaves out, and the app does before its first page: a command line (typer,
pydantic-settings), the schema and content checks, the app's ~25 ORM models and its
middlewares (sessions, security headers, language), the interface languages, the
home page's plan panel and the demo workers.

    python bench/startup_floor.py DATA_DIR PORT
"""

from __future__ import annotations

import datetime as dt
import sys

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import DictLoader, Environment, select_autoescape
from sqlalchemy import DateTime, ForeignKey, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

PAGE = """<!doctype html><html><head><title>Home</title></head><body>
<p>{{ due }} due</p><ul>{% for slug, title, description, count in chapters %}
<li><a href="/questions?chapter={{ slug | urlencode }}">{{ title }}</a> {{ count }}
{% if description %}<p>{{ description }}</p>{% endif %}</li>{% endfor %}</ul></body></html>
"""


class Base(DeclarativeBase):
    pass


class Chapter(Base):
    __tablename__ = "chapters"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_file: Mapped[str]
    slug: Mapped[str]
    title: Mapped[str]
    description: Mapped[str | None]
    archived_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Question(Base):
    __tablename__ = "questions"
    id: Mapped[str] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id"))
    archived_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Card(Base):
    __tablename__ = "cards"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int]
    due: Mapped[dt.datetime] = mapped_column(DateTime)


def make_app(database: str) -> FastAPI:
    engine = create_engine(f"sqlite:///{database}")
    env = Environment(loader=DictLoader({"home.html": PAGE}), autoescape=select_autoescape())
    templates = Jinja2Templates(env=env)
    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        count = func.count(Question.id)
        active = (Question.chapter_id == Chapter.id) & Question.archived_at.is_(None)
        with Session(engine) as session:
            chapters = session.execute(
                select(Chapter.slug, Chapter.title, Chapter.description, count)
                .join(Question, active)
                .where(Chapter.archived_at.is_(None))
                .group_by(Chapter.id)
                .order_by(Chapter.source_file)
            ).all()
            due = session.scalar(
                select(func.count(Card.id)).where(
                    Card.user_id == 1, Card.due <= dt.datetime.now(dt.UTC)
                )
            )
        context = {"chapters": chapters, "due": due}
        return templates.TemplateResponse(request, "home.html", context)

    return app


if __name__ == "__main__":
    data_dir, port = sys.argv[1], int(sys.argv[2])
    application = make_app(f"{data_dir}/interview-lab.sqlite3")
    uvicorn.run(application, host="127.0.0.1", port=port)  # as serve runs it
