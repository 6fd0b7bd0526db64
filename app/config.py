"""Settings in one place, read from the environment (pydantic-settings).

Every variable is prefixed ``IL_`` except ``DATABASE_URL``, which keeps the name
every hosting platform uses. Settings are built by ``get_settings()`` at the edges
(CLI, ASGI entry point) and passed down; nothing reads the environment at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IL_", extra="ignore", populate_by_name=True)

    # Where the embedded default keeps its SQLite file (and, later, run artefacts).
    data_dir: Path = REPO_ROOT / "data"
    # SQLAlchemy URL; empty means "SQLite file in data_dir". PostgreSQL example:
    # postgresql+psycopg://user@127.0.0.1:5432/interview_lab
    database_url: str = Field(
        default="", validation_alias=AliasChoices("DATABASE_URL", "IL_DATABASE_URL")
    )
    # The Q&A markdown bank that `serve` and `import` read by default.
    content_dir: Path = REPO_ROOT / "content"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Echo SQL statements (debugging only).
    sql_echo: bool = False
    # Accounts with login. Off: one built-in local user, and only a loopback address.
    accounts: bool = False
    # Host names the app answers with accounts on (comma-separated; "*.example.com" for
    # subdomains, "*" for any). Local mode answers only localhost, 127.0.0.1 and [::1].
    trusted_hosts: str = "localhost,127.0.0.1,[::1]"
    # Signs session cookies. Empty: a random key kept in data_dir/secret_key.
    secret_key: str = ""
    # Mark the session cookie Secure (set when served over HTTPS behind a proxy).
    cookie_secure: bool = False
    # Where demo runs go: "local" worker processes started by `serve` (embedded
    # default), or "celery" workers (`interview-lab worker`) through Redis.
    queue: Literal["local", "celery"] = "local"
    # Local worker processes `serve` starts (0: none; runs wait for a worker).
    workers: int = Field(default=2, ge=0, le=16)
    redis_url: str = "redis://127.0.0.1:6379/0"
    # "module:function" that finds a demo by name in the workers (tests point it at
    # their own demos).
    demo_lookup: str = "app.demos:get_demo"
    # Per user: runs waiting at once, and new runs per minute.
    runs_queued_cap: int = Field(default=3, ge=1)
    runs_per_minute: int = Field(default=10, ge=1)
    # Per user: runs running at once (the rest wait their turn, fairly between users).
    runs_running_cap: int = Field(default=1, ge=1)
    # Celery: a queued run whose id went to the queue this many seconds ago and that no
    # worker has claimed is sent again (a lost message, a queue that was down).
    runs_resend_after_s: float = Field(default=120.0, gt=0)
    # Celery: how often the web process looks for queued runs to send (or send again).
    runs_sweep_s: float = Field(default=5.0, gt=0)
    # Accounts (per process): sign-in and sign-up posts per client address per minute,
    # failed sign-ins per username per 15 minutes, argon2 hashes at once (64 MiB each),
    # and how long a sign-in waits for a hashing slot before a 503.
    auth_per_minute: int = Field(default=10, ge=1)
    auth_failures_per_account: int = Field(default=10, ge=1)
    hash_concurrency: int = Field(default=2, ge=1, le=64)
    hash_wait_seconds: float = Field(default=5.0, ge=0, le=60)

    @property
    def resolved_database_url(self) -> str:
        """The URL actually used: ``database_url`` or the SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'interview-lab.sqlite3').as_posix()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


def session_secret(settings: Settings) -> str:
    """The key that signs session cookies: the setting, or one generated once and kept
    in the data folder so sessions survive restarts."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    if not path.exists():
        import os
        import secrets
        import tempfile

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # Written whole, then linked into place only if absent: uvicorn --workers starts
        # processes at once, and they must all sign with the first key, never read half.
        fd, tmp = tempfile.mkstemp(dir=settings.data_dir, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


def get_settings() -> Settings:
    """Read the settings from the environment (call at the edges, not at import)."""
    return Settings()
