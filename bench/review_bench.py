"""Benchmark: the review loop (get the next card, rate it) against the real server, from
concurrent clients on loopback, interleaved in one run with a bare FastAPI app that
returns a constant (the ceiling) and with the floor (``bench/review_floor.py``: the
loop's own SQL statements and fsrs scheduling in a bare FastAPI app).

    .venv/bin/python bench/review_bench.py [--clients 32] [--rounds 3] [--seconds 5]
    .venv/bin/python bench/review_bench.py --db postgres --workers 2

Each client is its own account (accounts on), so clients don't rate each other's cards.
A round trip is GET /api/review/next then POST /api/review/rate; the ceiling's round trip
is a GET and a POST to constant endpoints. The three servers run under uvicorn with the
same options (``--workers``, log level warning, demo workers off), on sockets this process
binds to free ports (port 0) and hands over (``LAUNCHER``: accepted connections get
TCP_NODELAY, as under ``serve``). The rounds alternate (app, ceiling, floor, ...), so a
change in the machine's load falls on all three. The clients run in a separate process
(raw HTTP/1.1 keep-alive connections on asyncio), started per round, so their CPU is not
charged to any server; each round prints the CPU time the server and the client used per
round trip. Targets (issue 19): at least half the ceiling's throughput, p99 under 50 ms
at 32 clients; floor / ceiling shows how much of that the loop's own work leaves.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))

CEILING_APP = textwrap.dedent(
    """
    from fastapi import FastAPI
    app = FastAPI()

    @app.get("/next")
    def next_() -> dict[str, int]:
        return {"ok": 1}

    @app.post("/rate")
    def rate() -> dict[str, int]:
        return {"ok": 1}
    """
)
# The app, the bare FastAPI ceiling, and the floor (bench/review_floor.py): the app's SQL
# and scheduling in a bare FastAPI app, so the figures show what the framework costs.
KINDS = ("app", "ceiling", "floor")
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
PG_ADMIN_URL = os.environ.get(
    "IL_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def free_socket() -> socket.socket:
    """A listening socket on a free loopback port, for uvicorn ``--fd``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


# uvicorn's ``--fd`` rebuilds the socket as ``socket.fromfd(fd, AF_UNIX, ...)``, so asyncio
# takes the accepted connections for Unix sockets and never sets TCP_NODELAY on them: a
# response written as headers then body waits for the client's delayed ACK (~40 ms per
# request on Linux loopback, which capped the ceiling near clients / 44 ms). This launcher
# keeps the socket's real family (``socket.socket(fileno=fd)`` reads it from the kernel),
# as ``serve`` (uvicorn binding host and port itself) does.
LAUNCHER = textwrap.dedent(
    """
    import socket, sys
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    target, fd, app_dir, workers = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    sys.path.insert(0, app_dir)
    sock = socket.socket(fileno=fd)
    config = uvicorn.Config(
        target, log_level="warning", access_log=False, workers=workers
    )
    if workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])
    """
)


def start_server(
    target: str, sock: socket.socket, env: dict[str, str], workers: int, app_dir: str, probe: str
) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-c", LAUNCHER, target, str(sock.fileno()), app_dir, str(workers)]
    proc = subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, pass_fds=(sock.fileno(),))
    port = sock.getsockname()[1]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=2).status_code < 500:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{' '.join(cmd)} did not start")


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its live children."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids, total = [pid], 0.0
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pids += [int(c) for c in children]
    return total


async def sign_up(base: str, i: int) -> str:
    """A new account with no daily new-card limit; its session cookie."""
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        page = await client.get("/signup")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        form = {
            "csrf_token": token,
            "username": f"bench{i:03d}",
            "password": "benchmark-password",
            "next": "/",
        }
        response = await client.post("/signup", data=form)
        if response.status_code >= 400:  # a 303 to the next page is the success
            raise RuntimeError(f"sign-up: HTTP {response.status_code} {response.text[:300]}")
        (await client.put("/api/settings", json={"new_per_day": 9999})).raise_for_status()
        cookie = client.cookies.get("il_session")
        if not cookie:
            raise RuntimeError("sign-up gave no session cookie")
        return cookie


async def sign_up_all(base: str, n: int) -> list[str]:
    return list(await asyncio.gather(*(sign_up(base, i) for i in range(n))))


def run_round(
    kind: str, port: int, cookies: list[str], seconds: float, server: subprocess.Popen[bytes]
) -> dict[str, Any]:
    loop = "ceiling" if kind == "ceiling" else "app"  # the floor serves the app's routes
    job = json.dumps({"kind": loop, "port": port, "cookies": cookies, "seconds": seconds})
    cpu0 = tree_cpu(server.pid)
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "review_client.py")],
        input=job.encode(),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} client failed:\n{done.stderr.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    result["server_cpu"] = tree_cpu(server.pid) - cpu0
    return result


def summary(results: list[dict[str, Any]]) -> tuple[float, float, float, int, float, float]:
    """(round trips/s, p50 ms, p99 ms, round trips, server and client CPU ms per trip)."""
    latencies = [x for r in results for x in r["latencies"]]
    n = len(latencies)
    q = statistics.quantiles(latencies, n=100) if n > 1 else [0.0] * 99
    seconds = sum(r["seconds"] for r in results)
    per = 1000 / max(n, 1)
    return (
        n / seconds,
        q[49] * 1000,
        q[98] * 1000,
        n,
        sum(r["server_cpu"] for r in results) * per,
        sum(r["cpu"] for r in results) * per,
    )


@contextmanager
def database(kind: str) -> Iterator[str]:
    """An empty database URL (a fresh PostgreSQL database, dropped after), or "" (SQLite)."""
    if kind == "sqlite":
        yield ""
        return
    import psycopg

    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"il_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def note(text: str) -> None:
    """Progress on stderr (the figures go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def measure(args: argparse.Namespace, tmp: str, database_url: str) -> None:
    from import_bench import generate

    content = Path(tmp) / "content"
    content.mkdir()
    note(f"generating and importing {args.questions} questions")
    generate(content, args.questions, 100)
    env = dict(
        os.environ,
        IL_DATA_DIR=f"{tmp}/data",
        IL_CONTENT_DIR=str(content),
        IL_ACCOUNTS="true",
        IL_WORKERS="0",
        IL_SECRET_KEY=uuid.uuid4().hex,
        # Every bench account signs up from 127.0.0.1 at once: lift the limits.
        IL_AUTH_PER_MINUTE="10000",
        IL_HASH_WAIT_SECONDS="60",
    )
    env.pop("IL_DATABASE_URL", None)
    env["DATABASE_URL"] = database_url
    subprocess.run(
        [sys.executable, "-m", "app", "import"],
        env=env,
        cwd=REPO_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (Path(tmp) / "ceiling.py").write_text(CEILING_APP)
    note("starting the servers")
    socks = {kind: free_socket() for kind in KINDS}
    ports = {kind: sock.getsockname()[1] for kind, sock in socks.items()}
    bench_dir, root = str(REPO_ROOT / "bench"), str(REPO_ROOT)
    servers = {
        "app": start_server("app.main:app", socks["app"], env, args.workers, root, "/api/healthz"),
        "ceiling": start_server("ceiling:app", socks["ceiling"], env, args.workers, tmp, "/next"),
        # Not signed in: a 401 says it is up.
        "floor": start_server(
            "review_floor:app", socks["floor"], env, args.workers, bench_dir, "/api/review/next"
        ),
    }
    try:
        note(f"signing up {args.clients} accounts")
        cookies = asyncio.run(sign_up_all(f"http://127.0.0.1:{ports['app']}", args.clients))
        load = os.getloadavg()[0]
        print(
            f"{args.db}, {args.workers} uvicorn worker(s), {args.clients} clients, "
            f"{args.questions} questions, {args.rounds} x {args.seconds:.0f} s each, "
            f"{os.cpu_count()} CPUs, load {load:.2f} at start"
        )
        note("measuring")
        for kind in KINDS:  # warm-up, not counted
            run_round(kind, ports[kind], cookies, 1.0, servers[kind])
        results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
        for i in range(args.rounds):
            for kind in KINDS:
                r = run_round(kind, ports[kind], cookies, args.seconds, servers[kind])
                results[kind].append(r)
                rate, p50, p99, n, scpu, ccpu = summary([r])
                print(
                    f"  round {i + 1} {kind:<8} {rate:7.0f} round trips/s  p50 {p50:6.1f} ms  "
                    f"p99 {p99:6.1f} ms  CPU/trip: server {scpu:.2f} ms, client {ccpu:.2f} ms"
                )
        rates = {}
        for kind, label in (("app", "review"), ("ceiling", "ceiling"), ("floor", "floor")):
            rate, p50, p99, n, cpu, _ = summary(results[kind])
            rates[kind], rates[f"{kind} p99"] = rate, p99
            print(
                f"{label:<8} {rate:7.0f} round trips/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
                f"({n} round trips, server CPU {cpu:.2f} ms each)"
            )
        ratio, floor = rates["app"] / rates["ceiling"], rates["floor"] / rates["ceiling"]
        print(
            f"review / ceiling throughput: {ratio:.2f} (target >= {TARGET_RATIO}: "
            f"{verdict(ratio >= TARGET_RATIO)})"
        )
        print(
            f"floor / ceiling throughput: {floor:.2f} (the same SQL and scheduling with nothing "
            f"else: the most the review could reach here; review / floor {ratio / floor:.2f})"
        )
        app99 = rates["app p99"]
        print(
            f"review p99: {app99:.1f} ms (target < {TARGET_P99_MS:.0f} ms at 32 clients: "
            f"{verdict(app99 < TARGET_P99_MS)}; floor p99 {rates['floor p99']:.1f} ms)"
        )
        print(f"load {os.getloadavg()[0]:.2f} at end")
    finally:
        for proc in servers.values():
            proc.terminate()
        for proc in servers.values():
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--questions", type=int, default=3000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, database(args.db) as url:
        measure(args, tmp, url)


if __name__ == "__main__":
    main()
