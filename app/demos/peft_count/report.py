"""The PEFT-count demo's report: the meta-device counts beside their formulas, turned into
named figures, checks, charts and a conclusion. No torch here."""

from __future__ import annotations

from dataclasses import dataclass

from app.demos.base import Check, DemoResult, Series
from app.demos.peft_count.formulas import (
    ACTIVATION_SOURCE,
    GB,
    Count,
    Memory,
    activation_bytes,
    base_total,
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

METHOD_AXIS = "method: " + ", ".join(f"{i} {METHOD_TITLES[m]}" for i, m in enumerate(METHODS))


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


def figures_of(p: PeftParams, n: Measured) -> dict[str, float]:
    figures: dict[str, float] = {
        "total_params": float(base_total(p.architecture)),
        "lora_formula_r_d_plus_k": float(lora_r_d_plus_k(p)),
        "full_dk": float(full_dk(p)),
        "lora_alpha_over_r": p.lora_alpha / p.lora_r,
    }
    for m in METHODS:
        figures[f"trainable_{m}"] = float(n.measured[m][0])
        figures[f"all_params_{m}"] = float(n.measured[m][1])
        figures[f"trainable_pct_{m}"] = n.pct[m]
        figures[f"adapter_bytes_{m}"] = float(n.adapter_bytes[m])
        figures[f"train_memory_gb_{m}"] = n.memory[m].total / GB
        figures[f"activation_gb_{m}"] = n.memory[m].activations / GB
        figures[f"inference_extra_kv_tokens_{m}"] = float(n.extra[m][0])
        figures[f"inference_extra_kv_entries_{m}"] = float(n.extra[m][1])
        figures[f"inference_extra_layers_{m}"] = float(n.extra[m][2])
    return figures


def checks_of(p: PeftParams, n: Measured) -> list[Check]:
    arch, measured = p.architecture, n.measured
    checks = []
    for method in METHODS:
        count, (trainable, total) = n.counts[method], measured[method]
        checks.append(
            Check(
                name=f"{METHOD_TITLES[method]}: meta-device count = formula",
                passed=(trainable, total) == (count.trainable, count.total),
                detail=(
                    f"trainable {trainable:,} vs {count.formula}; all {total:,} vs {count.total:,}"
                ),
            )
        )
    published = PUBLISHED_TOTALS.get(p.preset)
    if published is not None:
        built = measured["full"][1]
        checks.append(
            Check(
                name=f"{arch.name}: total = published {published:,}",
                passed=built == published,
                detail=f"meta model {built:,}; {base_total_formula(arch)}",
            )
        )
    lora = lora_r_d_plus_k(p)
    checks.append(
        Check(
            name="LoRA trains r·(d+k) instead of d·k per targeted matrix",
            passed=measured["lora"][0] == lora and lora < full_dk(p),
            detail=f"Σ r·(d_in+d_out) = {lora:,}; Σ d_in·d_out = {full_dk(p):,}",
        )
    )
    checks.append(
        Check(
            name="QLoRA trains exactly LoRA's parameters",
            passed=measured["qlora"][0] == measured["lora"][0],
            detail=f"{measured['qlora'][0]:,} = {measured['lora'][0]:,}",
        )
    )
    return checks


def _per_method(
    name: str, values: list[float], y_label: str, chart: str, log_y: bool = False
) -> Series:
    """One bar per method, in METHODS order."""
    return Series(
        name=name,
        x=[float(i) for i in range(len(METHODS))],
        y=values,
        kind="bar",
        x_label=METHOD_AXIS,
        y_label=y_label,
        log_y=log_y,
        chart=chart,
    )


def series_of(n: Measured) -> list[Series]:
    series = [
        # One series per method, so the legend names the bars.
        Series(
            name=METHOD_TITLES[m],
            x=[float(i)],
            y=[float(n.measured[m][0])],
            kind="bar",
            x_label=METHOD_AXIS,
            y_label="trainable parameters",
            log_y=True,
            chart="trainable",
        )
        for i, m in enumerate(METHODS)
    ]
    pct = [n.pct[m] for m in METHODS]
    series.append(
        _per_method("trainable % of all parameters", pct, "% trainable", "trainable_pct", True)
    )
    mb = [n.adapter_bytes[m] / 10**6 for m in METHODS]
    series.append(_per_method("saved adapter file (MB)", mb, "MB", "adapter_bytes", True))
    for part in ("weights", "gradients", "optimizer", "activations"):
        values = [getattr(n.memory[m], part) / GB for m in METHODS]
        series.append(_per_method(part, values, "GB (10⁹ bytes)", "train_memory"))
    tokens = [float(n.extra[m][0]) for m in METHODS]
    series.append(_per_method("extra KV-cache tokens", tokens, "tokens", "inference"))
    layers = [float(n.extra[m][2]) for m in METHODS]
    series.append(_per_method("extra sequential layers", layers, "layers", "inference"))
    return series


def _memory_lines(p: PeftParams, n: Measured) -> list[str]:
    """The saved adapter, the training memory and the activations."""
    memory, adapter_bytes = n.memory, n.adapter_bytes
    _, activation_formula = activation_bytes(p, "full")
    return [
        f"Saved adapter at {p.save_dtype}: parameters × bytes, no metadata; prefix and "
        "P-tuning save the encoder's output (PEFT drops the reparametrisation MLP), "
        f"e.g. LoRA {adapter_bytes['lora'] / 10**6:.3g} MB, full "
        f"{adapter_bytes['full'] / GB:.3g} GB.",
        "Training memory, mixed-precision AdamW: full fine-tuning keeps 16-bit weights "
        "and gradients, an fp32 master copy and two fp32 moments (16 B/parameter); PEFT "
        "methods keep the frozen base in 16 bits (QLoRA: NF4, 4 bits plus absmax "
        f"{'with' if p.qlora_double_quant else 'without'} double quantization) and the "
        "trainable parameters in fp32 with fp32 gradients and two fp32 moments "
        f"(16 B/parameter): full {memory['full'].total / GB:.3g} GB, LoRA "
        f"{memory['lora'].total / GB:.3g} GB, QLoRA {memory['qlora'].total / GB:.3g} GB.",
        f"Activations for b={p.batch_size}, s={p.seq_len}, recomputation "
        f"{p.activation_recomputation}: {activation_formula} bytes = "
        f"{memory['full'].activations / GB:.3g} GB ({ACTIVATION_SOURCE}; it assumes a 4h "
        "GELU MLP and full multi-head attention, so for SwiGLU/GQA models it is an "
        "estimate; adapters' and LoRA's own small activations are not added).",
    ]


def conclusion_of(p: PeftParams, n: Measured, checks: list[Check]) -> str:
    arch, measured, pct, extra = p.architecture, n.measured, n.pct, n.extra
    lines = [
        f"{arch.name}: {base_total(arch):,} parameters (meta-device count; "
        f"{base_total_formula(arch)}).",
        "Trainable per method (PEFT's trainable% of all parameters): "
        + "; ".join(f"{METHOD_TITLES[m]} {measured[m][0]:,} ({pct[m]:.4g}%)" for m in METHODS)
        + ".",
        f"LoRA r={p.lora_r} on {', '.join(p.targets)} trains Σ r·(d_in+d_out) = "
        f"{lora_r_d_plus_k(p):,} instead of Σ d_in·d_out = {full_dk(p):,}; alpha = "
        f"{p.lora_alpha:g} only scales ΔW by alpha/r = {p.lora_alpha / p.lora_r:g}.",
        *_memory_lines(p, n),
        "At inference, prompt, prefix and P-tuning add their virtual tokens to every "
        f"layer's KV cache ({extra['prompt'][0]}, {extra['prefix'][0]} and "
        f"{extra['ptuning'][0]} tokens; {extra['prefix'][1]:,} cache entries for prefix "
        f"tuning); Houlsby adapters add {extra['adapter_houlsby'][2]} sequential layers, "
        f"Pfeiffer {extra['adapter_pfeiffer'][2]}; merged LoRA and (IA)³ add nothing.",
    ]
    failed = [check.name for check in checks if not check.passed]
    if failed:
        lines.append(f"Failed checks: {'; '.join(failed)}.")
    return " ".join(lines)


def result_of(p: PeftParams, measured: dict[str, tuple[int, int]]) -> DemoResult:
    n = Measured.of(p, measured)
    checks = checks_of(p, n)
    return DemoResult(
        figures=figures_of(p, n),
        series=series_of(n),
        checks=checks,
        conclusion=conclusion_of(p, n, checks),
    )


SHARED_FIGURES = ("total_params", "lora_formula_r_d_plus_k", "full_dk", "lora_alpha_over_r")
PER_METHOD_FIGURES = (
    "trainable",
    "all_params",
    "trainable_pct",
    "adapter_bytes",
    "train_memory_gb",
    "activation_gb",
    "inference_extra_kv_tokens",
    "inference_extra_kv_entries",
    "inference_extra_layers",
)


def figure_names(params: PeftParams) -> list[str]:
    """``total_params`` …, then ``<figure>_<method>`` for every method (``trainable_lora``)."""
    return [*SHARED_FIGURES, *(f"{f}_{m}" for m in METHODS for f in PER_METHOD_FIGURES)]
