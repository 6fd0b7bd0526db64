"""The PEFT-count demo's checks: what was measured on the meta device beside the formulas
(``Measured``), and the checks that the two agree and match the published totals. No
torch here; ``report`` turns the same measurements into figures, charts and tables."""

from __future__ import annotations

from dataclasses import dataclass

from app.demos.base import Check
from app.demos.peft_count.formulas import (
    Count,
    Memory,
    base_total_formula,
    full_dk,
    inference_extra,
    lora_r_d_plus_k,
    method_counts,
    saved_bytes,
    training_memory,
)
from app.demos.peft_count.params import PeftParams
from app.demos.peft_count.presets import METHOD_TITLES, METHODS, PUBLISHED_TOTALS
from app.demos.text import Text, t


@dataclass(frozen=True)
class Measured:
    """Per method: (trainable, all) parameters counted on the meta device, and what
    follows from them and the formulas."""

    measured: dict[str, tuple[int, int]]
    counts: dict[str, Count]  # the closed-form formulas
    pct: dict[str, float]  # PEFT's trainable%: trainable over all, the method's own included
    adapter_bytes: dict[str, int]
    memory: dict[str, Memory]
    extra: dict[str, tuple[int, int, int]]  # inference: KV tokens, KV entries, layers

    @classmethod
    def of(cls, p: PeftParams, measured: dict[str, tuple[int, int]]) -> Measured:
        counts = method_counts(p)
        return cls(
            measured=measured,
            counts=counts,
            pct={m: 100 * measured[m][0] / measured[m][1] for m in METHODS},
            adapter_bytes={m: saved_bytes(p, counts[m]) for m in METHODS},
            memory={m: training_memory(p, m, counts[m]) for m in METHODS},
            extra={m: inference_extra(p, m) for m in METHODS},
        )


def method_title(method: str) -> Text:
    return t(METHOD_TITLES[method])


def model_name(p: PeftParams) -> Text | str:
    """The preset's published name, or the custom shape in words."""
    if p.preset != "custom":
        return p.architecture.name
    return t(
        "a custom model ($h$ = %(h)s, $L$ = %(L)s, %(heads)s/%(kv)s heads)",
        h=p.custom_hidden, L=p.custom_layers, heads=p.custom_heads, kv=p.custom_kv_heads,
    )  # fmt: skip


def checks_of(p: PeftParams, n: Measured) -> list[Check]:
    measured = n.measured
    checks = []
    for method in METHODS:
        count, (trainable, total) = n.counts[method], measured[method]
        checks.append(
            Check(
                name=t("%(method)s: meta-device count = formula", method=method_title(method)),
                passed=(trainable, total) == (count.trainable, count.total),
                detail=t(
                    "trainable %(trainable)s vs %(formula)s; all %(all)s vs %(total)s",
                    trainable=trainable,
                    formula=count.formula,
                    all=total,
                    total=count.total,
                ),  # fmt: skip
            )
        )
    published = PUBLISHED_TOTALS.get(p.preset)
    if published is not None:
        built = measured["full"][1]
        checks.append(
            Check(
                name=t(
                    "%(model)s: total = published %(published)s",
                    model=model_name(p),
                    published=published,
                ),  # fmt: skip
                passed=built == published,
                detail=t(
                    "meta model %(built)s; %(formula)s", built=built, formula=total_formula(p)
                ),
            )
        )
    lora = lora_r_d_plus_k(p)
    checks.append(
        Check(
            name=t(r"LoRA trains $r(d + k)$ instead of $dk$ per targeted matrix"),
            passed=measured["lora"][0] == lora and lora < full_dk(p),
            detail=t(
                r"LoRA: $\sum r (d_\mathrm{in} + d_\mathrm{out})$ = %(lora)s; in full: "
                r"$\sum d_\mathrm{in} d_\mathrm{out}$ = %(full)s",
                lora=lora,
                full=full_dk(p),
            ),  # fmt: skip
        )
    )
    checks.append(
        Check(
            name=t("QLoRA trains exactly LoRA's parameters"),
            passed=measured["qlora"][0] == measured["lora"][0],
            detail=t("%(qlora)s = %(lora)s", qlora=measured["qlora"][0], lora=measured["lora"][0]),
        )
    )
    return checks


def total_formula(p: PeftParams) -> Text:
    """The base model's count as a formula, with a legend of its symbols ($T$ only where
    the formula has it: GPT-3's learned positions)."""
    formula = base_total_formula(p.architecture)
    if p.architecture.positions:
        return t(
            "%(formula)s ($W$: one layer's projection weights, $n$: one norm's parameters, "
            "$T$: learned positions)",
            formula=formula,
        )
    return t(
        "%(formula)s ($W$: one layer's projection weights, $n$: one norm's parameters)",
        formula=formula,
    )
