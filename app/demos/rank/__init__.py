"""Matrix rank and low-rank approximation (Eckart–Young). Only ``DEMO`` is exported."""

from __future__ import annotations

from app.demos.rank.demo import DEMO

__all__ = ["DEMO"]
