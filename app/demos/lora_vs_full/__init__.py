"""LoRA against full fine-tuning, done fairly: the same layer, the same steps, the same
optimizer, a learning rate tuned per method, a rank sweep and the forgetting of the first
task. Only ``DEMO`` is exported; the LoRA layer and the tiny MLP come from
``app.demos.lora`` (declared in ``uses``)."""

from __future__ import annotations

from app.demos.lora_vs_full.demo import DEMO

__all__ = ["DEMO"]
