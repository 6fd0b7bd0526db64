"""MLA's KV cache: a low-rank latent instead of keys and values. Only ``DEMO`` is
exported."""

from __future__ import annotations

from app.demos.mla.demo import DEMO

__all__ = ["DEMO"]
