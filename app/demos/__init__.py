"""The demo catalogue. Each demo is a package (``app.demos.<name>``: ``params``,
``report``, ``demo``, its torch code in ``layers``/``model``), imported explicitly here
on the catalogue's first use (not at start-up) and registered once through ``register``,
which checks names, parameter models and the packages a demo ``uses``.

The web process imports this package to list demos and validate parameters; no demo
package imports torch at import time (see ``tests/demos/test_base.py``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from app.demos.base import Demo, register
from app.errors import NotFound
from app.i18n import mark as N_


@cache
def _catalogue() -> dict[str, Demo]:
    """The registered demos, imported on first use: 14 packages of parameter models and
    reports that a start (and the pages that show no demo) does without."""
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

    return register(
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


def __getattr__(name: str) -> Any:
    # ``app.demos._REGISTRY`` (tests add demos to it) is the catalogue, built on first use.
    if name == "_REGISTRY":
        return _catalogue()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def registry() -> dict[str, Demo]:
    """Name -> demo, in catalogue order (a copy: callers cannot change the catalogue)."""
    return dict(_catalogue())


def get_demo(name: str) -> Demo:
    try:
        return _catalogue()[name]
    except KeyError:
        raise NotFound(N_("demo %(name)r does not exist"), field="demo", name=name) from None


__all__ = ["Demo", "get_demo", "registry"]
