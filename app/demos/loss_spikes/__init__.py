"""Loss spikes: where they come from and what stops them (a tiny character-level GPT on
the bank's answers). Only ``DEMO`` is exported; torch lives in ``model`` and is imported
inside ``demo.run``."""

from __future__ import annotations

from app.demos.loss_spikes.demo import DEMO

__all__ = ["DEMO"]
