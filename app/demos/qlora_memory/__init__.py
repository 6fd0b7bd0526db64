"""Will it fit? Fine-tuning memory at fp16, int8 and NF4. Only ``DEMO`` is exported; it
counts weights with ``app.demos.peft_count`` (declared in ``uses``)."""

from __future__ import annotations

from app.demos.qlora_memory.demo import DEMO

__all__ = ["DEMO"]
