"""NF4 quantization byte by byte. Only ``DEMO`` is exported; nothing here imports torch
at import time (``quant``, ``formats``, ``model``, ``measure`` and ``bnb_check`` hold the
torch code, imported inside ``demo.run``). The qlora demo reuses ``quant`` and ``model``.
"""

from __future__ import annotations

from app.demos.nf4.demo import DEMO

__all__ = ["DEMO"]
