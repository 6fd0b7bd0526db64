"""Alembic environment: migrations run on the engine app.db hands over, or on the
engine built from the settings when alembic is run by hand."""

from __future__ import annotations

from sqlalchemy import Engine

from alembic import context
from app.config import get_settings
from app.db import make_engine
from app.models import Base

config = context.config
target_metadata = Base.metadata

# Schema objects that migrations create and triggers keep, with no model
# (``0018_browse_indexes``): the search index (an FTS5 table and its shadow tables on
# SQLite, a pg_trgm index on PostgreSQL) and the bank's version counter. Autogenerate
# (``alembic revision --autogenerate``, ``alembic check``) would propose dropping them.
NOT_MODELLED_TABLES = ("questions_fts", "bank_version")
NOT_MODELLED_INDEXES = ("ix_questions_search_text_trgm",)


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    if not reflected or name is None:
        return True
    if type_ == "table":
        return not name.startswith(NOT_MODELLED_TABLES)
    return not (type_ == "index" and name in NOT_MODELLED_INDEXES)


def run_migrations_online() -> None:
    engine: Engine | None = config.attributes.get("engine")
    if engine is None:
        engine = make_engine(get_settings())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
