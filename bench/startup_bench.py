"""Benchmark: how fast the app starts, measured as a user meets it (issue 19, item 4).

    .venv/bin/python bench/startup_bench.py [--runs 7] [--serves 5] [--compare DIR]

1. ``import app.main``: the median wall time of ``--runs`` fresh interpreters (after one
   warm-up run, with bytecode caches written as a normal install has them), beside the
   floor of the framework alone (fastapi, starlette's sessions, SQLAlchemy's ORM, jinja2,
   pydantic-settings) and the module counts. Target: under 0.5 s.
2. ``interview-lab serve`` (``python -m app serve``) on a free port: the time from the
   process's start to the first ``200`` for ``/`` (the home page: the address ``serve``
   prints, the page a user opens first), on a fresh data folder (migrations and the
   import of ``content/`` on the way) and on the existing one (the median of ``--serves``
   starts), with the server's CPU seconds until then. Target: under 1 s. Beside it, in
   the same run and alternating with it, the floor: ``bench/startup_floor.py``, a bare
   FastAPI + SQLAlchemy ORM + Jinja app on uvicorn serving the home page's main queries
   from the same database, and the ratio of the two.
3. Where the time goes: ``import app.main`` under ``python -X importtime``, its modules'
   own time summed by part (the framework floor's packages, the app's own packages, the
   other libraries), as shares of the import; and a timeline of one ``serve`` on a fresh
   and on the existing folder (``bench/startup_trace.py``): seconds since the process
   was started, its CPU seconds and modules loaded at each step (the CLI's imports, the
   schema and content checks, the app built, the socket bound, the first request and
   response, then what waits for the first page: the lazy routers, the demo workers, the
   claims' runs).

``--compare DIR``: another checkout of the app (e.g. ``git worktree add /tmp/old HEAD~5``)
measured in the same run, alternating with this one, for figures before and after a
change on an equally loaded machine (each checkout gets its own data folder).

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
from collections.abc import Callable
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
TIMELINE_AFTER_S = 1.6  # how long the timeline's server runs on after its first page


def user_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: bytecode caches written (a developer setting
    such as PYTHONDONTWRITEBYTECODE would charge every start the compile)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_python(code: str, runs: int, trees: list[Path]) -> list[tuple[float, float]]:
    """For each checkout in ``trees``, the median wall and CPU (user + system) seconds of
    ``runs`` fresh interpreters running ``code`` in it, the checkouts taking turns. On a
    loaded machine the wall time is mostly waiting; the CPU time is what the start
    itself costs."""
    cmd = [sys.executable, "-c", code]
    for tree in trees:  # warm-up: writes .pyc
        subprocess.run(cmd, check=True, cwd=tree, env=user_env())
    walls: list[list[float]] = [[] for _ in trees]
    cpus: list[list[float]] = [[] for _ in trees]
    for _ in range(runs):
        for i, tree in enumerate(trees):
            cpu, start = children_cpu(), time.perf_counter()
            subprocess.run(cmd, check=True, cwd=tree, env=user_env())
            walls[i].append(time.perf_counter() - start)
            cpus[i].append(children_cpu() - cpu)
    return [(statistics.median(w), statistics.median(c)) for w, c in zip(walls, cpus, strict=True)]


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


Command = Callable[[int], list[str]]  # the command line of a server, given its port


def serve(port: int) -> list[str]:
    return [sys.executable, "-m", "app", "serve"]


def floor(data_dir: Path) -> Command:
    script = str(REPO_ROOT / "bench" / "startup_floor.py")
    return lambda port: [sys.executable, script, str(data_dir), str(port)]


def first_page(
    command: Command,
    data_dir: Path,
    *,
    cwd: Path = REPO_ROOT,
    linger_s: float = 0.0,
    timeout_s: float = 120.0,
    **env_extra: str,
) -> tuple[float, float]:
    """Seconds from starting the server ``command`` on ``data_dir`` to its first 200 for
    ``/``, and the CPU seconds the server process (not its demo workers) used until then.
    It is stopped ``linger_s`` after that page."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = user_env(IL_DATA_DIR=str(data_dir), IL_PORT=str(port), **env_extra)
    env.pop("DATABASE_URL", None)
    env.pop("IL_DATABASE_URL", None)
    env["TRACE_T0"] = repr(time.monotonic())
    start = time.perf_counter()
    server = subprocess.Popen(
        command(port), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        while True:
            elapsed = time.perf_counter() - start
            if server.poll() is not None:
                err = server.stderr.read().decode() if server.stderr else ""
                raise RuntimeError(f"server exited with {server.returncode}:\n{err[-2000:]}")
            if elapsed > timeout_s:
                raise RuntimeError(f"no page from {url} within {timeout_s} s")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        response.read()
                        seconds, cpu = time.perf_counter() - start, process_cpu(server.pid)
                        time.sleep(linger_s)
                        return seconds, cpu
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.01)
    finally:
        # The server stops its own worker processes on SIGINT (as on Ctrl-C).
        server.send_signal(signal.SIGINT)
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


def timeline(data_dir: Path) -> list[tuple[float, float, int, str]]:
    """One ``serve`` of this checkout on ``data_dir`` under ``bench/startup_trace.py``:
    (seconds since its start, its CPU seconds, modules loaded, step) at each step, until
    ``TIMELINE_AFTER_S`` after its first page."""
    script = str(REPO_ROOT / "bench" / "startup_trace.py")
    with tempfile.NamedTemporaryFile(suffix=".tsv") as trace:
        first_page(
            lambda port: [sys.executable, script],
            data_dir,
            linger_s=TIMELINE_AFTER_S,
            TRACE_FILE=trace.name,
        )
        lines = Path(trace.name).read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t", 3) for line in lines]
    return [(float(a), float(b), int(c), step) for a, b, c, step in rows]


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


def verdict(value: float, target: float) -> str:
    return f"target < {target:.1f} s: {'met' if value < target else 'NOT met'}"


def median_of(values: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(v[0] for v in values), statistics.median(v[1] for v in values)


def compared(figures: list[tuple[float, float]], label: str) -> str:
    """``figures[1:]``, the other checkout's, as a note after this checkout's figure."""
    return "".join(f"  [{label}: {w:.3f} s, cpu {c:.3f} s]" for w, c in figures[1:])


def print_timeline(title: str, rows: list[tuple[float, float, int, str]]) -> None:
    print(f"  {title} (since the process started: wall s, cpu s, modules loaded):")
    for wall, cpu, modules, step in rows:
        print(f"    {wall:6.3f}  {cpu:6.3f}  {modules:5d}  {step}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per figure")
    parser.add_argument("--serves", type=int, default=5, help="serve starts on existing data")
    parser.add_argument("--compare", type=Path, help="another checkout, measured alternately")
    args = parser.parse_args()
    trees = [REPO_ROOT] + ([args.compare.resolve()] if args.compare else [])
    label = f"compare {args.compare}"

    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f} (1 min) at the start")
    imports = timed_python("import app.main", args.runs, trees)
    (floor_s, floor_cpu), (python_s, python_cpu) = (
        timed_python(FLOOR, args.runs, [REPO_ROOT])[0],
        timed_python("pass", args.runs, [REPO_ROOT])[0],
    )
    (app_s, app_cpu) = imports[0]
    print(
        f"import app.main:  {app_s:6.3f} s (cpu {app_cpu:.3f} s, "
        f"{module_count('import app.main')} modules)  {verdict(app_s, IMPORT_TARGET_S)}"
        + compared(imports, label)
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
        folders = [Path(tmp) / f"data-{i}" for i in range(len(trees))]
        pairs = list(zip(trees, folders, strict=True))
        fresh = [first_page(serve, folder, cwd=tree) for tree, folder in pairs]
        existing: list[list[tuple[float, float]]] = [[] for _ in trees]
        floors: list[tuple[float, float]] = []
        for _ in range(args.serves):
            for i, (tree, folder) in enumerate(pairs):
                existing[i].append(first_page(serve, folder, cwd=tree))
            floors.append(first_page(floor(folders[0]), folders[0]))
        steps_fresh = timeline(Path(tmp) / "timeline")
        steps = timeline(folders[0])
    served = [median_of(starts) for starts in existing]
    (fresh_s, fresh_cpu), (existing_s, existing_cpu) = fresh[0], served[0]
    floor_s, floor_cpu = median_of(floors)
    print(
        f"serve, fresh data folder:    first page {fresh_s:6.3f} s (server cpu {fresh_cpu:.2f} s)"
        f"  {verdict(fresh_s, FIRST_PAGE_TARGET_S)}" + compared(fresh, label)
    )
    print(
        f"serve, existing data folder: first page {existing_s:6.3f} s (server cpu "
        f"{existing_cpu:.2f} s, median of {args.serves})  "
        f"{verdict(existing_s, FIRST_PAGE_TARGET_S)}" + compared(served, label)
    )
    print(
        f"  floor (bench/startup_floor.py, same database): first page {floor_s:6.3f} s "
        f"(cpu {floor_cpu:.2f} s, median of {args.serves}); serve / floor: "
        f"{existing_s / floor_s:.2f} (cpu {existing_cpu / floor_cpu:.2f})"
    )
    print_timeline("timeline of serve on a fresh folder", steps_fresh)
    print_timeline("timeline of serve on the existing folder", steps)
    print(f"load average: {os.getloadavg()[0]:.2f} (1 min) at the end")


if __name__ == "__main__":
    main()
