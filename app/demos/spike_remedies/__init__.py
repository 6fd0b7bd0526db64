"""Loss-spike remedies, tested. Only ``DEMO`` is exported."""

from __future__ import annotations

from app.demos.spike_remedies.demo import DEMO

__all__ = ["DEMO"]
