"""What LoRA's A and B do: how far each moves, LoRA-FA (A frozen), three initialisations,
and two task LoRAs added together. Only ``DEMO`` is exported; the LoRA layer and the tiny
MLP come from ``app.demos.lora`` (declared in ``uses``)."""

from __future__ import annotations

from app.demos.lora_roles.demo import DEMO

__all__ = ["DEMO"]
