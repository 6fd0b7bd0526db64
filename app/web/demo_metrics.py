"""The names of a run's live metrics in the reader's language.

A demo reports progress as ``{metric: value}``. Some demos name a metric by its English
msgid already (``N_("loss, configured run")``); the others use short keys (``pretrain``,
``full``, ``lora_r4``), named here. The live chart's legend shows these labels, which the
progress events carry beside the raw keys (the keys stay as they are for the API)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.demos.text import N_
from app.i18n import translations

_KEYS: dict[str, str] = {
    "pretrain": N_("pre-training (task 1)"),
    "full": N_("full fine-tuning"),
    "loss": N_("training loss"),
    "loss_nf4": N_("test loss after NF4"),
    "mse_nf4_normal": N_("NF4 MSE on normal weights"),
    "loss_qlora": N_("QLoRA test loss"),
    "loss_lora_fp": N_("LoRA (16-bit base) test loss"),
    "qlora": N_("arm: 1 = QLoRA, 0 = LoRA"),
}
_LORA_RANK = re.compile(r"lora_r(\d+)")


def metric_label(name: str, language: str) -> str:
    """A metric's label in ``language``; a key nobody named stays as it is."""
    catalogue = translations(language)
    if name in _KEYS:
        return catalogue.gettext(_KEYS[name])
    if rank := _LORA_RANK.fullmatch(name):
        return catalogue.gettext(N_("LoRA r = %(r)s")) % {"r": rank.group(1)}
    return catalogue.gettext(name) if name else name  # a demo's own msgid, or a key


def metric_labels(names: Iterable[str], language: str) -> dict[str, str]:
    return {name: metric_label(name, language) for name in names}
