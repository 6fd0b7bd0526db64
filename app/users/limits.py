"""Brakes on sign-in and sign-up: token buckets by client address and by account, and a
bounded pool for argon2 (each hash takes 64 MiB and ~0.1 s of CPU).

Everything here lives in one process. Served by several uvicorn processes, each process
keeps its own buckets, so the effective limits are the configured ones times the number
of processes (the hashing bound is per process too)."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pwdlib import PasswordHash

from app.config import Settings
from app.errors import ServiceUnavailable, TooManyRequests
from app.i18n import gettext as _

Clock = Callable[[], float]
# Failed sign-ins per account are counted over this window.
ACCOUNT_WINDOW_S = 15 * 60


class RateLimited(TooManyRequests):
    """Too many attempts; ``retry_after`` whole seconds until the next one is allowed."""

    def __init__(self, message: str, *, retry_after: float, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = max(1, math.ceil(retry_after))


class HashingBusy(ServiceUnavailable):
    """Every hashing slot stayed taken for the whole wait."""

    retry_after = 1


class RateLimiter:
    """Token buckets by key: ``capacity`` attempts at once, refilled at ``capacity`` per
    ``period`` seconds. At most ``max_keys`` keys are kept (least recently used dropped
    first), so memory stays bounded whatever names or addresses an attacker invents."""

    def __init__(self, *, capacity: int, period: float, max_keys: int = 100_000) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / period
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _level(self, key: str, now: float) -> float:
        tokens, stamp = self._buckets.get(key, (self.capacity, now))
        return min(self.capacity, tokens + (now - stamp) * self.rate)

    def wait(self, key: str, *, now: float) -> float:
        """Seconds until ``key`` may try again (0: now), taking nothing."""
        with self._lock:
            level = self._level(key, now)
        return 0.0 if level >= 1 else (1 - level) / self.rate

    def take(self, key: str, *, now: float) -> float:
        """Take one attempt for ``key``: 0 when allowed, else the seconds to wait."""
        with self._lock:
            level = self._level(key, now)
            if level < 1:
                return (1 - level) / self.rate
            self._buckets[key] = (level - 1, now)
            self._buckets.move_to_end(key)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return 0.0


class HashPool:
    """At most ``size`` argon2 computations at once; a caller waits up to ``wait_s`` for a
    slot, then gets ``HashingBusy`` (503). ``peak`` is the most that ever ran at once."""

    def __init__(self, *, size: int, wait_s: float) -> None:
        self.size = size
        self.wait_s = wait_s
        self.peak = 0
        self._running = 0
        self._slots = threading.BoundedSemaphore(size)
        self._count = threading.Lock()
        self._hasher = PasswordHash.recommended()  # argon2id

    @contextmanager
    def _slot(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self.wait_s):
            raise HashingBusy(_("The server is busy signing people in: try again in a moment."))
        try:
            with self._count:
                self._running += 1
                self.peak = max(self.peak, self._running)
            yield
        finally:
            with self._count:
                self._running -= 1
            self._slots.release()

    def hash(self, password: str) -> str:
        with self._slot():
            return self._hasher.hash(password)

    def verify_and_update(self, password: str, hashed: str) -> tuple[bool, str | None]:
        with self._slot():
            return self._hasher.verify_and_update(password, hashed)


@dataclass
class AuthGuard:
    """One app's brakes: attempts per client address (every sign-in and sign-up post),
    failed attempts per account key, and the hashing pool."""

    by_address: RateLimiter
    by_account: RateLimiter
    hashing: HashPool
    clock: Clock = time.monotonic

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthGuard:
        return cls(
            by_address=RateLimiter(capacity=settings.auth_per_minute, period=60),
            by_account=RateLimiter(
                capacity=settings.auth_failures_per_account, period=ACCOUNT_WINDOW_S
            ),
            hashing=HashPool(size=settings.hash_concurrency, wait_s=settings.hash_wait_seconds),
        )

    def admit(self, *, address: str, account: str) -> None:
        """Let one attempt through, or raise ``RateLimited`` (429)."""
        now = self.clock()
        wait = self.by_account.wait(account, now=now)
        if wait:
            raise RateLimited(
                _("Too many failed attempts for this username: try again in {s} s.").format(
                    s=max(1, math.ceil(wait))
                ),
                retry_after=wait,
                field="username",
            )
        wait = self.by_address.take(address, now=now)
        if wait:
            raise RateLimited(
                _("Too many attempts from your address: try again in {s} s.").format(
                    s=max(1, math.ceil(wait))
                ),
                retry_after=wait,
            )

    def failed(self, *, account: str) -> None:
        """Count a failed attempt (wrong password, or a name taken) against ``account``."""
        self.by_account.take(account, now=self.clock())
