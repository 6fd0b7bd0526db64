"""QLoRA: LoRA trained on a frozen 4-bit base. Only ``DEMO`` is exported; the NF4
quantizer and the task MLP come from ``app.demos.nf4`` (declared in ``uses``). Nothing in
this package imports torch at import time (``layers``, ``paged`` and ``measure`` hold the
torch code, imported inside ``demo.run``).
"""

from __future__ import annotations

from app.demos.qlora.demo import DEMO

__all__ = ["DEMO"]
