"""MLA's cost per decoded token (bytes and FLOPs, naive vs absorbed) and what converting
an MHA layer to MLA by SVD costs. Only ``DEMO`` is exported."""

from __future__ import annotations

from app.demos.mla_cost.demo import DEMO

__all__ = ["DEMO"]
