"""The demo catalogue. Each demo is a package (``app.demos.<name>``: ``params``,
``report``, ``demo``, its torch code in ``layers``/``model``), imported explicitly here
and registered once through ``register``, which checks names, parameter models and the
packages a demo ``uses``.

The web process imports this package to list demos and validate parameters; no demo
package imports torch at import time (see ``tests/demos/test_base.py``).
"""

from __future__ import annotations

from app.demos import (
    lora,
    lora_roles,
    lora_vs_full,
    loss_spikes,
    mla,
    mla_cost,
    nf4,
    paged_optimizer,
    peft_count,
    peft_latency,
    qlora,
    qlora_memory,
    rank,
    spike_remedies,
)
from app.demos.base import Demo, register
from app.errors import NotFound

_REGISTRY: dict[str, Demo] = register(
    [
        rank.DEMO,
        peft_count.DEMO,
        lora.DEMO,
        lora_vs_full.DEMO,
        lora_roles.DEMO,
        nf4.DEMO,
        qlora.DEMO,
        qlora_memory.DEMO,
        loss_spikes.DEMO,
        peft_latency.DEMO,
        mla.DEMO,
        mla_cost.DEMO,
        spike_remedies.DEMO,
        paged_optimizer.DEMO,
    ]
)


def registry() -> dict[str, Demo]:
    """Name -> demo, in catalogue order (a copy: callers cannot change the catalogue)."""
    return dict(_REGISTRY)


def get_demo(name: str) -> Demo:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise NotFound(f"demo {name!r} does not exist", field="demo") from None


__all__ = ["Demo", "get_demo", "registry"]
