"""PEFT parameter counts on real architectures: the demo's story.

Pick an architecture by its published hyperparameters (or a custom one) and each
method's knobs. For every method, build the model's module tree on torch's ``meta``
device, attach what the method trains, and count trainable and all parameters; beside
each count stands its closed-form formula, and a check asserts the two agree. From the
counts follow the saved adapter's size, a training-memory breakdown (weights,
gradients, AdamW states, activations after Korthikanti et al. 2022) and what each
method adds at inference.

torch is imported inside the functions (here and in ``meta_model``): the web process
imports this module for the catalogue and must not load torch.
"""

from __future__ import annotations

from app.demos.base import Check, Demo, DemoResult, RunContext, Series
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
from app.demos.peft_count.meta_model import meta_count
from app.demos.peft_count.params import PeftParams
from app.demos.peft_count.presets import METHOD_TITLES, METHODS, PUBLISHED_TOTALS

METHOD_AXIS = "method: " + ", ".join(f"{i} {METHOD_TITLES[m]}" for i, m in enumerate(METHODS))


def _checks(
    p: PeftParams, counts: dict[str, Count], measured: dict[str, tuple[int, int]]
) -> list[Check]:
    arch = p.architecture
    checks = []
    for method in METHODS:
        count, (trainable, total) = counts[method], measured[method]
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


def _series(
    measured: dict[str, tuple[int, int]],
    pct: dict[str, float],
    adapter_bytes: dict[str, int],
    memory: dict[str, Memory],
    extra: dict[str, tuple[int, int, int]],
) -> list[Series]:
    series = [
        # One series per method, so the legend names the bars.
        Series(
            name=METHOD_TITLES[m],
            x=[float(i)],
            y=[float(measured[m][0])],
            kind="bar",
            x_label=METHOD_AXIS,
            y_label="trainable parameters",
            log_y=True,
            chart="trainable",
        )
        for i, m in enumerate(METHODS)
    ]
    xs = [float(i) for i in range(len(METHODS))]

    def per_method(
        name: str, values: list[float], y_label: str, chart: str, log_y: bool = False
    ) -> Series:
        return Series(
            name=name,
            x=xs,
            y=values,
            kind="bar",
            x_label=METHOD_AXIS,
            y_label=y_label,
            log_y=log_y,
            chart=chart,
        )

    series.append(
        per_method(
            "trainable % of all parameters",
            [pct[m] for m in METHODS],
            "% trainable",
            "trainable_pct",
            log_y=True,
        )
    )
    series.append(
        per_method(
            "saved adapter file (MB)",
            [adapter_bytes[m] / 10**6 for m in METHODS],
            "MB",
            "adapter_bytes",
            log_y=True,
        )
    )
    for part in ("weights", "gradients", "optimizer", "activations"):
        values = [getattr(memory[m], part) / GB for m in METHODS]
        series.append(per_method(part, values, "GB (10⁹ bytes)", "train_memory"))
    series.append(
        per_method(
            "extra KV-cache tokens", [float(extra[m][0]) for m in METHODS], "tokens", "inference"
        )
    )
    series.append(
        per_method(
            "extra sequential layers",
            [float(extra[m][2]) for m in METHODS],
            "layers",
            "inference",
        )
    )
    return series


def run(params: PeftParams, ctx: RunContext) -> DemoResult:
    p = params
    arch = p.architecture
    counts = method_counts(p)
    total_steps = len(METHODS)

    measured: dict[str, tuple[int, int]] = {}
    for step, method in enumerate(METHODS, start=1):
        measured[method] = meta_count(p, method)
        trainable, total = measured[method]
        ctx.progress(step, total_steps, trainable=float(trainable), all_params=float(total))

    # PEFT's trainable%: trainable over all parameters including the method's own.
    pct = {m: 100 * measured[m][0] / measured[m][1] for m in METHODS}
    adapter_bytes = {m: saved_bytes(p, counts[m]) for m in METHODS}
    memory = {m: training_memory(p, m, counts[m]) for m in METHODS}
    extra = {m: inference_extra(p, m) for m in METHODS}

    figures: dict[str, float] = {
        "total_params": float(base_total(arch)),
        "lora_formula_r_d_plus_k": float(lora_r_d_plus_k(p)),
        "full_dk": float(full_dk(p)),
        "lora_alpha_over_r": p.lora_alpha / p.lora_r,
    }
    for m in METHODS:
        figures[f"trainable_{m}"] = float(measured[m][0])
        figures[f"all_params_{m}"] = float(measured[m][1])
        figures[f"trainable_pct_{m}"] = pct[m]
        figures[f"adapter_bytes_{m}"] = float(adapter_bytes[m])
        figures[f"train_memory_gb_{m}"] = memory[m].total / GB
        figures[f"activation_gb_{m}"] = memory[m].activations / GB
        figures[f"inference_extra_kv_tokens_{m}"] = float(extra[m][0])
        figures[f"inference_extra_kv_entries_{m}"] = float(extra[m][1])
        figures[f"inference_extra_layers_{m}"] = float(extra[m][2])

    checks = _checks(p, counts, measured)
    _, activation_formula = activation_bytes(p, "full")
    lines = [
        f"{arch.name}: {base_total(arch):,} parameters (meta-device count; "
        f"{base_total_formula(arch)}).",
        "Trainable per method (PEFT's trainable% of all parameters): "
        + "; ".join(f"{METHOD_TITLES[m]} {measured[m][0]:,} ({pct[m]:.4g}%)" for m in METHODS)
        + ".",
        f"LoRA r={p.lora_r} on {', '.join(p.targets)} trains Σ r·(d_in+d_out) = "
        f"{lora_r_d_plus_k(p):,} instead of Σ d_in·d_out = {full_dk(p):,}; alpha = "
        f"{p.lora_alpha:g} only scales ΔW by alpha/r = {p.lora_alpha / p.lora_r:g}.",
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
        "At inference, prompt, prefix and P-tuning add their virtual tokens to every "
        f"layer's KV cache ({extra['prompt'][0]}, {extra['prefix'][0]} and "
        f"{extra['ptuning'][0]} tokens; {extra['prefix'][1]:,} cache entries for prefix "
        f"tuning); Houlsby adapters add {extra['adapter_houlsby'][2]} sequential layers, "
        f"Pfeiffer {extra['adapter_pfeiffer'][2]}; merged LoRA and (IA)³ add nothing.",
    ]
    failed = [check.name for check in checks if not check.passed]
    if failed:
        lines.append(f"Failed checks: {'; '.join(failed)}.")
    return DemoResult(
        figures=figures,
        series=_series(measured, pct, adapter_bytes, memory, extra),
        checks=checks,
        conclusion=" ".join(lines),
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


DEMO = Demo(
    name="peft_params",
    title="PEFT parameter counts on real architectures",
    summary=(
        "Builds LLaMA-2 (7B, 13B, 70B), LLaMA-65B, Mistral-7B, Qwen2.5 (3B, 7B), GPT-3 175B "
        "or a custom decoder on torch's meta device (shapes without memory) and applies "
        "full fine-tuning, LoRA, QLoRA, Prompt Tuning, Prefix Tuning, P-tuning, Houlsby "
        "and Pfeiffer adapters and (IA)³ with the knobs you choose. Each method's "
        "trainable and total parameters are counted from the module tree and checked "
        "against their closed-form formula; the run also reports the saved adapter's "
        "size, a training-memory breakdown for AdamW with an activation estimate, and "
        "what each method adds at inference."
    ),
    claims=(
        "Prompt tuning trains less than 0.1% of the parameters",
        "Prefix tuning has slightly more parameters and overhead than prompt tuning",
        "Adapters add inference latency and have more parameters than prefix tuning but "
        "fewer than LoRA",
        "LoRA costs more memory and inference time than prompt or prefix tuning",
        "LoRA trains O(r(d+k)) parameters instead of O(dk)",
    ),
    params=PeftParams,
    run=run,
    time_limit_s=60.0,
    uses_gpu=False,  # nothing is computed on tensors: meta shapes and integer formulas
    figure_names=figure_names,
)
