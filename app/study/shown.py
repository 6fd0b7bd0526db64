"""What ``next_card`` showed, remembered so the rating applies exactly that, and the
seeded rng that makes fuzz the same in preview and rating in any process.

The memory is per process and per database (keyed by the engine), bounded and
thread-safe; losing it costs only the exact due time (see ``app.study.review``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

from fsrs import Rating
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.study.scheduler import CardDict, Outcome

ShownKey = tuple[int, str, int]  # (user id, question id, card version)


@dataclass(frozen=True)
class Shown:
    """One showing: the settings and card it was computed from, and its outcomes."""

    desired_retention: float
    card: CardDict | None
    shown_at: dt.datetime
    previews: dict[Rating, Outcome]


class ShownPreviews:
    """The latest previews shown per (user, question, version), bounded, thread-safe."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._max = max_entries
        self._items: OrderedDict[ShownKey, Shown] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: ShownKey, shown: Shown) -> None:
        with self._lock:
            self._items[key] = shown
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def get(self, key: ShownKey) -> Shown | None:
        with self._lock:
            return self._items.get(key)

    def pop(self, key: ShownKey) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


# Keyed by engine: the same (user id, question id) in two databases are different cards.
_SHOWN: weakref.WeakKeyDictionary[Engine, ShownPreviews] = weakref.WeakKeyDictionary()
_SHOWN_LOCK = threading.Lock()


def shown_previews(session: Session) -> ShownPreviews:
    """The memory of the database ``session`` is bound to."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _SHOWN_LOCK:
        return _SHOWN.setdefault(engine, ShownPreviews())


def forget_shown(*, session: Session) -> None:
    """Drop the remembered previews of this database (tests; after a bulk change)."""
    shown_previews(session).clear()


def fuzz_rng(*, user_id: int, question_id: str, version: int) -> random.Random:
    """The rng for this showing's fuzz; sha256, not ``hash()``, which varies by process."""
    digest = hashlib.sha256(f"{user_id}\x1f{question_id}\x1f{version}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))
