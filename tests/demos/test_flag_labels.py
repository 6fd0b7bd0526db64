"""A figure that is 0 or 1 says which is yes in one style across the demos: "(1 = yes)"
in English, "（1 = 是）" in Chinese; never "(1 yes, 0 no)" or "(1: …, 0: …)"."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import app.demos
from app.demos.paged_optimizer.summary import figure_labels as paged_optimizer_labels
from app.demos.qlora_memory.labels import figure_labels as qlora_memory_labels
from app.demos.spike_remedies.summary import figure_labels as spike_remedies_labels
from app.demos.text import Text
from app.i18n import LOCALE_DIR
from tests.demos.english import chinese, english

DEMOS = Path(app.demos.__file__).parent
# A 0/1 figure's legend: a parenthesis that opens with 1 and then "=", ":" or "yes".
LEGEND = re.compile(r"\(1\s*(?:=|:|yes)")


def demo_msgids() -> set[str]:
    """Every English message of the demos' text (``t`` and ``N_``), as the catalogue
    extraction finds them."""
    found = extract_from_dir(str(DEMOS), keywords={"t": None, "N_": None, "_": None})
    return {msg if isinstance(msg, str) else msg[0] for _, _, msg, _, _ in found}


def test_every_yes_no_legend_in_the_demos_reads_1_equals_yes() -> None:
    msgids = demo_msgids()
    legends = {m for m in msgids if LEGEND.search(m)}
    assert len(legends) >= 20, sorted(legends)  # the extraction found the demos' labels
    assert {m for m in legends if "(1 = yes" not in m} == set()
    assert {m for m in msgids if re.search(r"\b1 yes\b|\b0 no\b", m)} == set()
    with (LOCALE_DIR / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        zh = {m.id: m.string for m in read_po(f) if isinstance(m.id, str)}
    assert {m: zh.get(m) for m in legends if "（1 = 是" not in str(zh.get(m))} == {}


@pytest.mark.parametrize(
    "labels",
    [qlora_memory_labels, spike_remedies_labels, paged_optimizer_labels],
    ids=["qlora_memory", "spike_remedies", "paged_optimizer"],
)
def test_the_flag_labels_read_1_equals_yes_in_both_languages(
    labels: Callable[[], dict[str, Text]],
) -> None:
    shown = [(english(label), chinese(label)) for label in labels().values()]
    flags = [(en, zh) for en, zh in shown if LEGEND.search(en)]
    assert flags, "no 0/1 figure found"
    for en, zh in flags:
        assert "(1 = yes" in en and "（1 = 是" in zh, (en, zh)
    assert not any(re.search(r"1 yes|0 no|1 是，0 否", en + zh) for en, zh in shown)
