"""Benchmark: how fast the app starts, measured as a user meets it (issue 19, item 4).

    .venv/bin/python bench/startup_bench.py [--runs 7] [--serves 3]

1. ``import app.main``: the median wall time of ``--runs`` fresh interpreters (after one
   warm-up run, with bytecode caches written as a normal install has them), beside the
   floor of the framework alone (fastapi, starlette's sessions, SQLAlchemy's ORM, jinja2,
   pydantic-settings) and the module counts. Target: under 0.5 s.
2. ``interview-lab serve`` (``python -m app serve``) on a free port: the time from the
   process's start to the first ``200`` for ``/``, on a fresh data folder (migrations and
   the import of ``content/`` on the way) and on the existing one (the median of
   ``--serves`` starts). Target: under 1 s.

3. Where the time goes: ``import app.main`` under ``python -X importtime``, its modules'
   own time summed by part (the framework floor's packages, the app's own packages, the
   other libraries), as shares of the import; and ``serve``'s steps on a fresh and on
   the existing folder in one process, in CPU seconds (the CLI's imports, the schema
   check or migration, the content check or import, the app's imports and build,
   uvicorn's import, the first page). Demo workers and the claims' run queue are left
   out there (they run beside the first page, in other processes or a thread).

Every run is a separate process, so nothing is warm but the operating system's file cache.
Figures depend on the machine's load: run it on an idle machine (CPU times and shares
say more than wall times on a shared one).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
IMPORT_TARGET_S = 0.5
FIRST_PAGE_TARGET_S = 1.0
# What any FastAPI + SQLAlchemy + Jinja app of this shape imports before its own code.
FLOOR = (
    "import fastapi, fastapi.staticfiles, starlette.middleware.sessions, sqlalchemy.orm, "
    "jinja2, pydantic_settings"
)
COUNT = "import sys; {}; print(len(sys.modules))"
FLOOR_PACKAGES = frozenset(
    {"fastapi", "starlette", "pydantic", "pydantic_core", "pydantic_settings", "sqlalchemy"}
    | {"jinja2", "markupsafe", "annotated_types", "typing_extensions", "typing_inspection"}
    | {"anyio", "sniffio", "idna", "itsdangerous", "dotenv", "multipart", "python_multipart"}
    | {"email_validator", "opentelemetry", "greenlet"}
)
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|(\s*)(\S+)")
# serve's steps on an existing data folder, each in CPU seconds, in one process.
SERVE_STEPS = """
import sys, time
sys.argv = ["interview-lab", "serve"]
clock = time.process_time
steps = []
def step(name, start):
    steps.append((name, clock() - start))
    return clock()
t = clock()
import app.cli as cli
from app.config import get_settings
t = step("CLI imports (typer, rich, settings, database)", t)
settings = get_settings()
from app.db import make_engine
from app.schema import ensure_schema
engine = make_engine(settings)
migrated = ensure_schema(engine)
engine.dispose()
t = step("schema: " + ("migrated (alembic)" if migrated else "up to date (no alembic)"), t)
report = cli.import_content(settings)
t = step("content/ " + ("unchanged: fingerprint only" if report is None else "imported"), t)
from app.main import create_app
application = create_app(settings, start_workers=False)
t = step("app.main imports and create_app", t)
import uvicorn, uvicorn.main
t = step("uvicorn imports", t)
from fastapi.testclient import TestClient
t = clock()
with TestClient(application, base_url="http://127.0.0.1", client=("127.0.0.1", 1)) as c:
    assert c.get("/").status_code == 200
t = step("first page (in process, lifespan included)", t)
for name, seconds in steps:
    print(f"{seconds:.3f}\t{name}")
"""


def user_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: bytecode caches written (a developer setting
    such as PYTHONDONTWRITEBYTECODE would charge every start the compile)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_python(code: str, runs: int) -> tuple[float, float]:
    """The median wall and CPU (user + system) seconds of ``runs`` fresh interpreters
    running ``code``. On a loaded machine the wall time is mostly waiting; the CPU time
    is what the start itself costs."""
    cmd = [sys.executable, "-c", code]
    subprocess.run(cmd, check=True, cwd=REPO_ROOT, env=user_env())  # warm-up: writes .pyc
    walls, cpus = [], []
    for _ in range(runs):
        cpu, start = children_cpu(), time.perf_counter()
        subprocess.run(cmd, check=True, cwd=REPO_ROOT, env=user_env())
        walls.append(time.perf_counter() - start)
        cpus.append(children_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used so far (Linux; else NaN)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def module_count(code: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", COUNT.format(code)],
        check=True,
        cwd=REPO_ROOT,
        env=user_env(),
        capture_output=True,
        text=True,
    )
    return int(out.stdout.strip())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def first_page(data_dir: Path, *, timeout_s: float = 120.0) -> tuple[float, float]:
    """Seconds from starting ``serve`` on ``data_dir`` to its first 200 for ``/``, and
    the CPU seconds the server process (not its demo workers) used until then."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = user_env(IL_DATA_DIR=str(data_dir), IL_PORT=str(port))
    env.pop("DATABASE_URL", None)
    env.pop("IL_DATABASE_URL", None)
    start = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        while True:
            elapsed = time.perf_counter() - start
            if server.poll() is not None:
                err = server.stderr.read().decode() if server.stderr else ""
                raise RuntimeError(f"serve exited with {server.returncode}:\n{err[-2000:]}")
            if elapsed > timeout_s:
                raise RuntimeError(f"no page from {url} within {timeout_s} s")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        response.read()
                        return time.perf_counter() - start, process_cpu(server.pid)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.01)
    finally:
        # The server stops its own worker processes on SIGINT (as on Ctrl-C).
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def part_of(module: str) -> str:
    top = module.split(".")[0]
    if top == "app":
        return ".".join(module.split(".")[:2])
    if top in FLOOR_PACKAGES:
        return "framework floor (fastapi, starlette, pydantic, sqlalchemy, jinja2...)"
    if top.startswith("_") or top in sys.stdlib_module_names:
        return "standard library"
    return top


def import_breakdown(code: str, *, top: int = 14) -> list[tuple[str, float, int]]:
    """``code``'s imports in a fresh interpreter under ``-X importtime``: each part's own
    (self) import time as a share of the whole, with its module count, largest first."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        check=True,
        cwd=REPO_ROOT,
        env=user_env(),
        capture_output=True,
        text=True,
    )
    own: collections.Counter[str] = collections.Counter()
    count: collections.Counter[str] = collections.Counter()
    for match in IMPORT_LINE.finditer(out.stderr):
        part = part_of(match[3])
        own[part] += int(match[1])
        count[part] += 1
    total = sum(own.values()) or 1
    return [(part, us / total, count[part]) for part, us in own.most_common(top)]


def serve_steps(data_dir: Path) -> list[tuple[float, str]]:
    env = user_env(IL_DATA_DIR=str(data_dir))
    env.pop("DATABASE_URL", None)
    env.pop("IL_DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", SERVE_STEPS],
        check=True,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    return [(float(a), b) for a, b in (line.split("\t", 1) for line in out.stdout.splitlines())]


def verdict(value: float, target: float) -> str:
    return f"target < {target:.1f} s: {'met' if value < target else 'NOT met'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per figure")
    parser.add_argument("--serves", type=int, default=3, help="serve starts on existing data")
    args = parser.parse_args()

    app_s, app_cpu = timed_python("import app.main", args.runs)
    floor_s, floor_cpu = timed_python(FLOOR, args.runs)
    python_s, python_cpu = timed_python("pass", args.runs)
    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    print(
        f"import app.main:  {app_s:6.3f} s (cpu {app_cpu:.3f} s, "
        f"{module_count('import app.main')} modules)  {verdict(app_s, IMPORT_TARGET_S)}"
    )
    print(
        f"  framework floor: {floor_s:6.3f} s (cpu {floor_cpu:.3f} s, "
        f"{module_count(FLOOR)} modules: {FLOOR[7:]})"
    )
    print(f"  bare python:     {python_s:6.3f} s (cpu {python_cpu:.3f} s)")

    print("  import app.main by part (own import time, -X importtime; share of the whole):")
    for part, share, modules in import_breakdown("import app.main"):
        print(f"    {share:6.1%}  {modules:4d} modules  {part}")

    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        fresh_steps = serve_steps(Path(tmp) / "steps")
        data_dir = Path(tmp) / "data"
        fresh, fresh_cpu = first_page(data_dir)
        starts = sorted(first_page(data_dir) for _ in range(args.serves))
        existing, existing_cpu = starts[len(starts) // 2]
        steps = serve_steps(data_dir)
    print(
        f"serve, fresh data folder:    first page {fresh:6.3f} s (server cpu {fresh_cpu:.2f} s)"
        f"  {verdict(fresh, FIRST_PAGE_TARGET_S)}"
    )
    print(
        f"serve, existing data folder: first page {existing:6.3f} s (server cpu "
        f"{existing_cpu:.2f} s, median of {args.serves})  {verdict(existing, FIRST_PAGE_TARGET_S)}"
    )
    for folder, parts in (("a fresh", fresh_steps), ("the existing", steps)):
        total = sum(seconds for seconds, _ in parts)
        print(f"  serve's steps on {folder} folder, one process (cpu s; {total:.3f} in all):")
        for seconds, name in parts:
            print(f"    {seconds:6.3f}  {name}")


if __name__ == "__main__":
    main()
