"""What LoRA's A and B do: a tiny MLP pretrained on task 1 gets LoRA on its hidden layer
fc2 for task 2. Measures how far A and B move from their init (A barely, B learns: Zhu et
al. 2024), LoRA-FA (A frozen at its init) against standard LoRA, three initialisations
(A random/B = 0, both random, A = 0/B random) at step 0 (on task 2 and on the base's own
task 1) and in steps to a target loss, a learning-rate sweep of B = 0 against A = 0 (Hayou
et al. 2024: each init at its own best rate, and the largest rate that stays stable), and
task arithmetic: a second LoRA trained on task 3, its ΔW added to task 2's.

torch (and ``model``, which imports it) is imported inside ``run``: the web process imports
this module for the catalogue and must not load torch.
"""

from __future__ import annotations

from app.demos.base import Demo, DemoResult, RunContext
from app.demos.lora_roles.params import LoRARolesParams
from app.demos.lora_roles.report import figure_names
from app.demos.lora_roles.result import result_of
from app.demos.text import N_


def run(params: LoRARolesParams, ctx: RunContext) -> DemoResult:
    from app.demos.lora_roles.model import measure

    return result_of(params, measure(params, ctx))


DEMO = Demo(
    name="lora_roles",
    title=N_("What LoRA's A and B do"),
    summary=N_(
        "Adapts a tiny pretrained MLP with LoRA and measures what each factor does: how far "
        "A moves from its random init and how much B grows; LoRA-FA, which freezes A, "
        "against standard LoRA; three initialisations (A random and B zero, both random, "
        "A zero and B random) by their loss and gradients at step 0, what the start does to "
        "the base's own task, and the steps they need to reach a target loss; a "
        "learning-rate sweep that compares B zero with A zero, each at its own best rate; "
        "and two LoRAs trained on two tasks, added together, with the share of each task's "
        "gain the sum loses."
    ),
    claims=(
        N_("As training goes on B learns the direction and A does the scaling"),
        N_("A random, B = 0 keeps the start equal to the base model and converges fast"),
        N_("With B = 0 only B gets a gradient at the first step"),
        N_("Low-rank updates of different tasks can be added"),
    ),
    params=LoRARolesParams,
    run=run,
    time_limit_s=120.0,
    uses=("app.demos.lora",),
    figure_names=figure_names,
    topics=("LoRA", "PEFT", "参数高效微调"),
)
