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

from app.demos.base import Demo, DemoResult, RunContext
from app.demos.peft_count.meta_model import meta_count
from app.demos.peft_count.params import PeftParams
from app.demos.peft_count.presets import METHODS
from app.demos.peft_count.report import figure_names, result_of
from app.demos.text import N_


def run(params: PeftParams, ctx: RunContext) -> DemoResult:
    measured: dict[str, tuple[int, int]] = {}
    for step, method in enumerate(METHODS, start=1):
        measured[method] = meta_count(params, method)
        trainable, total = measured[method]
        ctx.progress(step, len(METHODS), trainable=float(trainable), all_params=float(total))
    return result_of(params, measured)


DEMO = Demo(
    name="peft_params",
    title=N_("PEFT parameter counts on real architectures"),
    summary=N_(
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
    live_chart=False,  # nine counts, not a curve: the run page shows a progress bar
    topics=(
        "PEFT",
        "参数高效微调",
        "参数高效",
        "LoRA",
        "QLoRA",
        "Prompt Tuning",
        "Prefix Tuning",
        "Adapter",
        "提示学习",
    ),
)
