"""Benchmark: the review loop (get the next card, rate it) against the real server on
SQLite, from concurrent clients on loopback, beside a bare FastAPI app that returns a
constant (the ceiling), measured in the same run.

    .venv/bin/python bench/review_bench.py [--clients 32] [--seconds 10] [--questions 3000]

Each client is its own account (accounts on), so clients don't rate each other's cards.
A round trip is GET /api/review/next then POST /api/review/rate; the ceiling's round trip
is a GET and a POST to constant endpoints. Target (issue 3): at least half the ceiling's
throughput, p99 under 50 ms at 32 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))

from import_bench import generate  # noqa: E402

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


def start(cmd: list[str], env: dict[str, str], url: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        cmd, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd} exited with {proc.returncode}") from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{cmd} did not start")


async def sign_up(base: str, i: int) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=30)
    page = await client.get("/signup")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    await client.post(
        "/signup",
        data={
            "csrf_token": token,
            "username": f"bench{i:03d}",
            "password": "benchmark-password",
            "next": "/",
        },
    )
    await client.put("/api/settings", json={"new_per_day": 9999})
    return client


async def review_loop(client: httpx.AsyncClient, stop: float, latencies: list[float]) -> None:
    while time.perf_counter() < stop:
        t0 = time.perf_counter()
        card = (await client.get("/api/review/next")).json()["card"]
        if card is None:
            return
        body = {
            "question_id": card["question"]["id"],
            "rating": 3,
            "version": card["version"],
            "duration_ms": 1000,
        }
        response = await client.post("/api/review/rate", json=body)
        response.raise_for_status()
        latencies.append(time.perf_counter() - t0)


async def ceiling_loop(client: httpx.AsyncClient, stop: float, latencies: list[float]) -> None:
    while time.perf_counter() < stop:
        t0 = time.perf_counter()
        (await client.get("/next")).raise_for_status()
        (await client.post("/rate")).raise_for_status()
        latencies.append(time.perf_counter() - t0)


def report(name: str, latencies: list[float], seconds: float) -> float:
    rate = len(latencies) / seconds
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    print(
        f"{name:<9} {rate:9.0f} round trips/s   p50 {q[49] * 1000:6.1f} ms   "
        f"p99 {q[98] * 1000:6.1f} ms   ({len(latencies)} round trips)"
    )
    return rate


async def measure(args: argparse.Namespace, app_url: str, ceiling_url: str) -> None:
    clients = await asyncio.gather(*(sign_up(app_url, i) for i in range(args.clients)))
    latencies: list[float] = []
    stop = time.perf_counter() + args.seconds
    await asyncio.gather(*(review_loop(c, stop, latencies) for c in clients))
    for c in clients:
        await c.aclose()
    ceiling: list[float] = []
    async with httpx.AsyncClient(base_url=ceiling_url, timeout=30) as c:
        stop = time.perf_counter() + args.seconds
        await asyncio.gather(*(ceiling_loop(c, stop, ceiling) for _ in range(args.clients)))
    print(f"{args.clients} clients, {args.seconds:.0f} s each, {args.questions} questions")
    app_rate = report("review", latencies, args.seconds)
    ceiling_rate = report("ceiling", ceiling, args.seconds)
    print(f"review / ceiling throughput: {app_rate / ceiling_rate:.2f} (target >= 0.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--questions", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        content = Path(tmp) / "content"
        content.mkdir()
        generate(content, args.questions, 100)
        env = dict(
            os.environ, IL_DATA_DIR=f"{tmp}/data", IL_CONTENT_DIR=str(content), IL_ACCOUNTS="true"
        )
        # Every bench account signs up from 127.0.0.1 at once: lift the per-address limit.
        env.update(IL_AUTH_PER_MINUTE="10000", IL_HASH_WAIT_SECONDS="60")
        env.pop("DATABASE_URL", None)
        subprocess.run(
            [sys.executable, "-m", "app", "import"],
            env=env,
            cwd=REPO_ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (Path(tmp) / "ceiling.py").write_text(CEILING_APP)
        app_port, ceiling_port = 8765, 8766
        server = start(
            [sys.executable, "-m", "app", "serve", "--no-import", "--port", str(app_port)],
            env,
            f"http://127.0.0.1:{app_port}/api/healthz",
        )
        ceiling = start(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                tmp,
                "ceiling:app",
                "--port",
                str(ceiling_port),
                "--log-level",
                "warning",
            ],
            env,
            f"http://127.0.0.1:{ceiling_port}/next",
        )
        try:
            asyncio.run(
                measure(args, f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{ceiling_port}")
            )
        finally:
            server.terminate()
            ceiling.terminate()
            server.wait()
            ceiling.wait()


if __name__ == "__main__":
    main()
