"""Browser tests: a real server (``python -m app serve``) on a free loopback port and
Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.conftest import REPO_ROOT, SEED, need_service, worker_index

CHROMIUM = os.environ.get("IL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT = REPO_ROOT / "test-output" / "screenshots"


@dataclass
class Server:
    url: str
    env: dict[str, str]

    @contextmanager
    def db(self) -> Iterator[Session]:
        """A session on this server's database (the SQLite file in its data folder)."""
        from app.config import Settings
        from app.db import make_engine, make_sessionmaker

        settings = Settings(data_dir=Path(self.env["IL_DATA_DIR"]), database_url="")
        engine = make_engine(settings)
        try:
            with make_sessionmaker(engine)() as session:
                yield session
        finally:
            engine.dispose()


# Ports for the servers tests start: below the kernel's ephemeral range (32768-60999,
# where bind(0) and every outgoing connection take theirs), 1000 to each xdist worker, so
# two workers never pick the same free port in the moment before either server binds it.
# Each session starts at its own place in the range (by its pid) and moves on.
PORTS = range(20000 + 1000 * worker_index(), 21000 + 1000 * worker_index())
_taken = [os.getpid()]


def free_port() -> int:
    """A loopback port of this worker's range that nothing listens on now."""
    for _ in PORTS:
        _taken[0] += 1
        port = PORTS[_taken[0] % len(PORTS)]
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


# Two claims on the seed bank, checked by the rank demo (a run takes a moment).
RANK_CLAIMS = """
- id: rank-bound
  question: llm-sft-2e76f170
  quote: "秩 ≤ min(行数, 列数)"
  demo: rank
  params: {m: 12, n: 8, r: 3}
  supported: "rank <= min_dim"
  refuted: "rank > min_dim"
  explanation: "rank {rank:.0f} of a {min_dim:.0f}-column matrix"
- id: rank-grows-with-r
  question: llm-sft-2e76f170
  quote: "秩越大，矩阵能表示的线性组合越丰富"
  demo: rank
  params: {m: 12, n: 8, r: 3}
  supported: "rank > 3"
  refuted: "rank <= 3"
  explanation: "rank {rank:.0f} with r = {r:.0f}"
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    yield from serve(tmp_path)


@pytest.fixture
def claims_server(tmp_path: Path) -> Iterator[Server]:
    """``serve`` on the seed bank with two claims, whose run it queues at start."""
    yield from serve(tmp_path, claims=RANK_CLAIMS)


def serve(tmp_path: Path, claims: str | None = None) -> Iterator[Server]:
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(SEED, content / SEED.name)
    if claims is not None:
        (content / "claims").mkdir()
        (content / "claims" / "seed.yaml").write_text(claims, encoding="utf-8")
    port = free_port()
    env = dict(os.environ, IL_DATA_DIR=str(tmp_path / "data"), IL_CONTENT_DIR=str(content))
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    # A hang guard, not a timing target: on the loaded two-core machine, with the other
    # xdist worker busy, a start (imports, the seed import, two workers importing torch)
    # has taken over 30 s.
    start = time.monotonic()
    deadline = start + 120
    while True:
        try:
            urllib.request.urlopen(url + "/api/healthz", timeout=1)
            if proc.poll() is None:  # ours answered, not another process on the port
                break
            raise OSError(f"port {port} answered, but the server exited")
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                output = proc.stdout.read() if proc.stdout else ""
                raise RuntimeError(
                    f"the server did not start (exit code {proc.poll()}, after"
                    f" {time.monotonic() - start:.0f} s):\n{output}"
                ) from None
            time.sleep(0.2)
    try:
        yield Server(url=url, env=env)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)  # its workers finish their runs' steps first
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class WatchedBrowser:
    """The browser, whose pages record what the content security policy refused (the
    console says "... violates the following Content Security Policy directive ...")."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self.csp_violations: list[str] = []

    def new_page(self, **kwargs: Any) -> Any:
        page = self._browser.new_page(**kwargs)
        page.on("console", self._console)
        return page

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One Chromium per test module (a launch is seconds of CPU); each test has its own
    contexts in it (``browser``), which share no cookies, storage or cache. Not one per
    session: between its sync calls Playwright leaves its event loop marked running in
    this thread, and a later test's ``asyncio.run()`` would refuse to start."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need_service("playwright is not installed")
    if not Path(CHROMIUM).exists():
        need_service(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def browser(chromium: Any) -> Iterator[Any]:
    """Chromium; every browser test also checks the pages broke no CSP rule. The contexts
    (and pages) a test opened are closed after it."""
    before = set(chromium.contexts)
    watched = WatchedBrowser(chromium)
    yield watched
    for context in chromium.contexts:
        if context not in before:
            context.close()
    assert not watched.csp_violations, watched.csp_violations


def screenshot(page: Any, name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
