"""Where PEFT methods cost time at inference. Only ``DEMO`` is exported; it reuses LoRA's
layer through ``app.demos.lora`` (declared in ``uses``)."""

from __future__ import annotations

from app.demos.peft_latency.demo import DEMO

__all__ = ["DEMO"]
