"""LoRA, step by step: a tiny MLP adapted by full fine-tuning and by LoRA. Only ``DEMO``
is exported; the LoRA layer (``layers.LoRALinear``) is reused by other demos, which
declare ``uses=("app.demos.lora",)``."""

from __future__ import annotations

from app.demos.lora.demo import DEMO

__all__ = ["DEMO"]
