"""QLoRA, two demos: NF4 quantization byte by byte (``nf4``), and LoRA trained on a
frozen 4-bit base (``qlora``).

Only the two Demo objects are exported; nothing in this package imports torch at import
time (the torch code lives in ``nf4``, ``formats``, ``layers``, ``models``, the
``*_measure`` modules, ``bnb_check`` and ``paged``, imported inside ``run``). Every module
of the package counts toward both demos' code version.
"""

from __future__ import annotations

from app.demos.qlora.nf4_demo import NF4_DEMO
from app.demos.qlora.qlora_demo import QLORA_DEMO

DEMOS = (NF4_DEMO, QLORA_DEMO)

__all__ = ["DEMOS", "NF4_DEMO", "QLORA_DEMO"]
