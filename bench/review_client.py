"""The review bench's client process (``bench/review_bench.py`` starts one per round):
keep-alive HTTP/1.1 connections on asyncio (uvloop when installed), one per account,
sending prepared requests. Reads the round's job as JSON on stdin and prints each round
trip's latency, the wall time and its own CPU time as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


class Connection:
    """One keep-alive HTTP/1.1 connection sending prepared requests."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def call(self, request: bytes) -> Any:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await self.reader.readexactly(length)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
        return json.loads(body)


def _request(method: str, path: str, port: int, cookie: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    if cookie:
        lines.append(f"Cookie: il_session={cookie}")
    if method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _review_loop(
    conn: Connection, port: int, cookie: str, stop: float, out: list[float]
) -> None:
    get_next = _request("GET", "/api/review/next", port, cookie)
    while (t0 := time.perf_counter()) < stop:
        card = (await conn.call(get_next))["card"]
        if card is None:
            raise RuntimeError("a client ran out of cards: use more --questions")
        body = json.dumps(
            {
                "question_id": card["question"]["id"],
                "rating": 3,
                "version": card["version"],
                "duration_ms": 1000,
            }
        ).encode()
        await conn.call(_request("POST", "/api/review/rate", port, cookie, body))
        out.append(time.perf_counter() - t0)


async def _ceiling_loop(conn: Connection, port: int, stop: float, out: list[float]) -> None:
    get_next, post_rate = _request("GET", "/next", port, ""), _request("POST", "/rate", port, "")
    while (t0 := time.perf_counter()) < stop:
        await conn.call(get_next)
        await conn.call(post_rate)
        out.append(time.perf_counter() - t0)


async def _client_main(job: dict[str, Any]) -> dict[str, Any]:
    port, cookies = job["port"], job["cookies"]
    conns = [Connection(*await asyncio.open_connection("127.0.0.1", port)) for _ in cookies]
    latencies: list[float] = []
    cpu0, t0 = time.process_time(), time.perf_counter()
    stop = t0 + job["seconds"]
    if job["kind"] == "app":
        loops = [
            _review_loop(c, port, k, stop, latencies) for c, k in zip(conns, cookies, strict=True)
        ]
    else:
        loops = [_ceiling_loop(c, port, stop, latencies) for c in conns]
    await asyncio.gather(*loops)
    elapsed = time.perf_counter() - t0
    for c in conns:
        c.writer.close()
    return {"latencies": latencies, "seconds": elapsed, "cpu": time.process_time() - cpu0}


def main() -> None:
    """Run one round for the job read from stdin, print the results."""
    job = json.loads(sys.stdin.read())
    try:
        import uvloop

        result = uvloop.run(_client_main(job))
    except ImportError:
        result = asyncio.run(_client_main(job))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
