"""The paged optimizer under a memory cap: AdamW, 8-bit AdamW and bitsandbytes' paged
AdamW (8- and 32-bit) train the same model while PyTorch may hold only ``cap_gb``. Only
``DEMO`` is exported; the torch code lives in ``measure`` (imported inside ``demo.run``).
"""

from __future__ import annotations

from app.demos.paged_optimizer.demo import DEMO

__all__ = ["DEMO"]
