"""The PEFT parameter-count demo: presets of real architectures, closed-form counts,
a meta-device model that checks them, and the demo that compares every method.

Only ``demo.DEMO`` is registered; nothing in this package imports torch at import time.
"""

from __future__ import annotations

from app.demos.peft_count.demo import DEMO

__all__ = ["DEMO"]
