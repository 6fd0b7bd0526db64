"""What LoRA's A and B do: a tiny MLP pretrained on task 1 gets LoRA on its hidden layer
fc2 for task 2. Measures how far A and B move from their init (A barely, B learns: Zhu et
al. 2024), LoRA-FA (A frozen at its init) against standard LoRA, three initialisations
(A random/B = 0, both random, A = 0/B random) at step 0 and in steps to a target loss, and
task arithmetic: a second LoRA trained on task 3, its ΔW added to task 2's.

torch (and ``model``, which imports it) is imported inside ``run``: the web process imports
this module for the catalogue and must not load torch.
"""

from __future__ import annotations

from app.demos.base import Demo, DemoResult, RunContext
from app.demos.lora_roles.params import LoRARolesParams
from app.demos.lora_roles.report import figure_names, result_of


def run(params: LoRARolesParams, ctx: RunContext) -> DemoResult:
    from app.demos.lora_roles.model import measure

    return result_of(params, measure(params, ctx))


# TODO(i18n): Demo has no bilingual title/summary yet; these are the Chinese texts for
# the mechanism another issue adds.
TITLE = {"en": "What LoRA's A and B do", "zh": "LoRA 中 A 和 B 各自的作用"}
SUMMARY = {
    "en": (
        "Adapts a tiny pretrained MLP with LoRA and measures what each factor does: how far "
        "A moves from its random init and how much B grows; LoRA-FA, which freezes A, "
        "against standard LoRA; three initialisations (A random and B zero, both random, "
        "A zero and B random) by their loss and gradients at step 0 and the steps they "
        "need to reach a target loss; and two LoRAs trained on two tasks, added together, "
        "with the share of each task's gain the sum loses."
    ),
    "zh": (
        "用 LoRA 适配一个预训练的小 MLP，测量每个因子的作用：A 离随机初始化移动了多少、B 增长了"
        "多少；冻结 A 的 LoRA-FA 与标准 LoRA 的对比；三种初始化（A 随机 B 为零、两者都随机、"
        "A 为零 B 随机）在第 0 步的损失和梯度，以及达到目标损失所需的步数；以及在两个任务上"
        "分别训练的两个 LoRA 相加后，每个任务的收益损失了多少。"
    ),
}

DEMO = Demo(
    name="lora_roles",
    title=TITLE["en"],
    summary=SUMMARY["en"],
    claims=(
        "As training goes on B learns the direction and A does the scaling",
        "A random, B = 0 keeps the start equal to the base model and converges fast",
        "With B = 0 only B gets a gradient at the first step",
        "Low-rank updates of different tasks can be added",
    ),
    params=LoRARolesParams,
    run=run,
    time_limit_s=60.0,
    uses=("app.demos.lora",),
    figure_names=figure_names,
)
