"""The generated session key: processes started at once (uvicorn --workers) all sign
with the same key, kept private in the data folder."""

from __future__ import annotations

import threading
from pathlib import Path

from app.config import Settings, session_secret


def test_starting_at_once_every_worker_gets_the_first_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key="")
    barrier = threading.Barrier(8)
    keys: list[str] = []

    def start() -> None:
        barrier.wait()
        keys.append(session_secret(settings))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1 and len(keys[0]) >= 32
    path = settings.data_dir / "secret_key"
    assert path.read_text() == keys[0]
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in settings.data_dir.iterdir()) == ["secret_key"]
    assert session_secret(settings) == keys[0]  # a restart keeps it
