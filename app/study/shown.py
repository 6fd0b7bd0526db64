"""The seeded rng that makes fsrs' interval fuzz the same in the preview and in the
rating of one showing, in any process."""

from __future__ import annotations

import hashlib
import random


def fuzz_rng(*, user_id: int, question_id: str, version: int) -> random.Random:
    """The rng for this showing's fuzz; sha256, not ``hash()``, which varies by process."""
    digest = hashlib.sha256(f"{user_id}\x1f{question_id}\x1f{version}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))
