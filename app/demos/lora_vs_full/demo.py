"""LoRA against full fine-tuning, done fairly: a tiny MLP pretrained on task 1 is adapted to
task 2 (its teacher differs by a rank-``shift_rank`` change to the hidden layer fc2) by full
fine-tuning of fc2's weight and by LoRA on the same weight at ranks 1–16: the same steps,
the same optimizer, each method's learning rate picked from one grid on a validation split.
Reports task-2 loss per method, the gap per rank, trainable parameters, the forgetting of
task 1, and that removing the adapter gives back the base.

torch (and ``model``, which imports it) is imported inside ``run``: the web process imports
this module for the catalogue and must not load torch.
"""

from __future__ import annotations

from app.demos.base import Demo, DemoResult, RunContext
from app.demos.lora_vs_full.params import LoRAVsFullParams
from app.demos.lora_vs_full.report import figure_names
from app.demos.lora_vs_full.result import result_of
from app.demos.text import N_


def run(params: LoRAVsFullParams, ctx: RunContext) -> DemoResult:
    from app.demos.lora_vs_full.model import measure

    return result_of(params, measure(params, ctx))


DEMO = Demo(
    name="lora_vs_full",
    title=N_("LoRA against full fine-tuning, done fairly"),
    summary=N_(
        "Pretrains a tiny MLP on a synthetic task, then adapts it to a second task whose "
        "teacher differs by a change of chosen rank to the hidden layer. Full fine-tuning "
        "and LoRA at ranks 1–16 adapt the same matrix for the same steps with the same "
        "optimizer, each at the learning rate a validation split picks from one grid. "
        "Shows the loss per method and rank, the trainable parameters, how much of the "
        "first task each method forgets, and that removing the adapter restores the base."
    ),
    claims=(
        N_("LoRA performs close to full fine-tuning"),
        N_("A larger rank r is more expressive but trains more parameters"),
        N_("LoRA keeps the base model's abilities"),
    ),
    params=LoRAVsFullParams,
    run=run,
    time_limit_s=120.0,
    uses=("app.demos.lora",),
    figure_names=figure_names,
    topics=("LoRA", "PEFT", "参数高效微调", "SFT"),
)
