"""LoRA, step by step: a tiny MLP pretrained on one synthetic task and adapted to a second,
by full fine-tuning and by LoRA at ranks 1–16, to measure what LoRA's answers claim.

The story: a random teacher MLP labels Gaussian inputs (task 1); task 2's teacher is the
same network with a rank-``shift_rank`` change to its hidden layer. The student is
pretrained on task 1, then adapted to task 2. At LoRA's step 0 we measure the output
change and the gradients of A and B under the chosen init; we train full fine-tuning and
LoRA on the student's hidden layer fc2; we take the SVD of full fine-tuning's ΔW of fc2;
and we merge W + (alpha/r)·BA and time the forward pass merged, unmerged and bare.

torch (and ``measure``/``layers``, which import it) is imported inside ``run``: the web process
imports this module for the catalogue and must not load torch.
"""

from __future__ import annotations

from app.demos.base import Demo, DemoResult, RunContext
from app.demos.lora.params import LoRAParams
from app.demos.lora.report import figure_names
from app.demos.lora.result import result_of
from app.demos.text import N_


def run(params: LoRAParams, ctx: RunContext) -> DemoResult:
    from app.demos.lora.measure import measure

    return result_of(params, measure(params, ctx))


DEMO = Demo(
    name="lora",
    title=N_("LoRA, step by step"),
    summary=N_(
        "Pretrains a tiny MLP on a synthetic classification task set by a random teacher, "
        "then adapts it to a second task whose teacher differs by a low-rank change to its "
        "hidden layer. Shows LoRA's initialisation at step 0 (A random and B zero: the "
        "output is unchanged and only B gets a gradient; or the two ways it goes wrong), "
        "trains full fine-tuning against LoRA at ranks 1–16 on the hidden layer (loss "
        "curves, trainable parameters, accuracy, memory), measures how much of full "
        "fine-tuning's update lies in its top singular directions, and merges the scaled "
        "product BA into the weight, comparing outputs and forward time merged, unmerged "
        "and bare."
    ),
    claims=(
        N_("LoRA trains O(r(d+k)) parameters instead of O(dk)"),
        N_("B = 0 at initialisation makes ΔW = 0, so training starts at the pretrained model"),
        N_("With B = 0 only B gets a gradient at the first step"),
        N_("Fine-tuning updates lie close to a low-rank subspace"),
        N_("A merged LoRA adds no inference latency"),
        N_("LoRA needs less training memory than full fine-tuning"),
    ),
    params=LoRAParams,
    run=run,
    time_limit_s=60.0,
    figure_names=figure_names,
    topics=("LoRA", "PEFT", "参数高效微调"),
)
