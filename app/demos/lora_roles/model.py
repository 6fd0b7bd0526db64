"""The torch side of lora_roles: a student pretrained on task 1, then LoRA on its fc2 for
task 2 under three initialisations and as LoRA-FA (A frozen), all from the same A₀/B₀, and
a second LoRA for task 3 whose update is added to task 2's. Everything is created on the
run's device from one generator.

Imports torch at the top: only ``demo.run`` imports it, lazily.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from app.demos.base import RunContext
from app.demos.lora.layers import MLP, LoRALinear, evaluate, task_labels, train
from app.demos.lora_roles.params import (
    ARMS,
    CLASSES,
    D_IN,
    INITS,
    LR_GRID,
    N_TEST,
    N_TRAIN,
    PRETRAIN_LR,
    SHIFT_STRENGTH,
    SWEEP,
    LoRARolesParams,
)
from app.demos.lora_roles.report import ArmResult, Measured
from app.demos.lora_roles.sweep import SweepArm
from app.demos.lora_roles.words import PHASES

Task = tuple[torch.Tensor, torch.Tensor]  # inputs (N, D_IN), labels (N,)
Start = tuple[torch.Tensor, torch.Tensor]  # A₀ (r, hidden), B₀ (hidden, r)


def shifted_teacher(p: LoRARolesParams, teacher: MLP, gen: torch.Generator) -> MLP:
    """``teacher`` with a random rank-``shift_rank`` change of norm SHIFT_STRENGTH·‖fc2‖_F."""
    shifted = copy.deepcopy(teacher)
    device = teacher.adapted_weight().device
    left = torch.randn(p.hidden, p.shift_rank, generator=gen, device=device)
    shift = left @ torch.randn(p.shift_rank, p.hidden, generator=gen, device=device)
    with torch.no_grad():
        W = shifted.adapted_weight()
        W += SHIFT_STRENGTH * shift * (W.norm() / shift.norm())
    return shifted


def make_tasks(p: LoRARolesParams, gen: torch.Generator, device: str) -> list[Task]:
    """Task 1 (pretraining) on x ~ N(0, I); tasks 2 and 3, each its own rank-``shift_rank``
    change of the teacher, on inputs moved by ±task_separation/2 along a random direction."""
    teacher = MLP(D_IN, p.hidden, CLASSES, gen).to(device)
    teachers = [teacher, shifted_teacher(p, teacher, gen), shifted_teacher(p, teacher, gen)]
    u = torch.randn(D_IN, generator=gen, device=device)
    offsets = [0.0, p.task_separation / 2, -p.task_separation / 2]
    tasks: list[Task] = []
    for t, offset in zip(teachers, offsets, strict=True):
        X = torch.randn(N_TRAIN + N_TEST, D_IN, generator=gen, device=device)
        X = X + offset * u / u.norm()
        tasks.append((X, task_labels(t, X)))
    return tasks


def train_part(task: Task) -> Task:
    return task[0][:N_TRAIN], task[1][:N_TRAIN]


def test_part(task: Task) -> Task:
    return task[0][N_TRAIN:], task[1][N_TRAIN:]


def with_lora(base: MLP, p: LoRARolesParams, A: torch.Tensor, B: torch.Tensor) -> MLP:
    """A copy of ``base`` with LoRA (A, B given) around its frozen fc2."""
    model = copy.deepcopy(base)
    fc2 = model.fc2
    assert isinstance(fc2, nn.Linear)
    layer = LoRALinear(fc2, p.r, p.alpha, init="both_zero")  # both set below: no draw
    with torch.no_grad():
        layer.lora_A.copy_(A)
        layer.lora_B.copy_(B)
    model.fc2 = layer
    return model


def lora_of(model: MLP) -> LoRALinear:
    layer = model.fc2
    assert isinstance(layer, LoRALinear)
    return layer


def step0_grads(model: MLP, task: Task) -> tuple[float, float]:
    """‖∇A‖_F and ‖∇B‖_F of the first step's loss, read before any update."""
    layer = lora_of(model)
    F.cross_entropy(model(task[0]), task[1]).backward()  # type: ignore[no-untyped-call]
    assert layer.lora_A.grad is not None and layer.lora_B.grad is not None
    grads = layer.lora_A.grad.norm().item(), layer.lora_B.grad.norm().item()
    layer.zero_grad(set_to_none=True)
    return grads


def run_arm(
    model: MLP, task: Task, p: LoRARolesParams, on_step: Callable[[int, float], None], *,
    freeze_a: bool = False,
) -> ArmResult:  # fmt: skip
    """Step-0 gradients, then ``steps`` full-batch Adam steps on A and B (B only if
    ``freeze_a``); the test loss after."""
    layer = lora_of(model)
    A_0 = layer.lora_A.detach().clone()
    grad_a, grad_b = step0_grads(model, train_part(task))
    layer.lora_A.requires_grad_(not freeze_a)
    trainable = [q for q in (layer.lora_A, layer.lora_B) if q.requires_grad]
    curve, _ = train(model, trainable, *train_part(task), steps=p.steps, lr=p.lr, on_step=on_step)
    return ArmResult(
        curve=curve,
        loss=evaluate(model, *test_part(task))[0],
        grad_a0=grad_a,
        grad_b0=grad_b,
        trainable=float(sum(q.numel() for q in trainable)),
        a_max_abs_change=(layer.lora_A - A_0).abs().max().item(),
    )


def sweep_starts(A_0: torch.Tensor, B_0: torch.Tensor) -> dict[str, Start]:
    """The sweep's starts, all with ΔW = 0: B = 0 (A₀ random); A = 0 with B₀ drawn at its
    own Kaiming scale (bound 1/√r); A = 0 with B₀ = A₀ᵀ, the very numbers B = 0 puts in A."""
    return {
        "standard": (A_0, torch.zeros_like(B_0)),
        "a_zero": (torch.zeros_like(A_0), B_0),
        "a_zero_matched": (torch.zeros_like(A_0), A_0.T.clone()),
    }


def lr_sweep(
    base: MLP, task: Task, p: LoRARolesParams, start: Start, on_step: Callable[[int, float], None],
) -> SweepArm:  # fmt: skip
    """``steps`` full-batch Adam steps on A and B from ``start`` at every rate of LR_GRID:
    the training loss after the last step, and whether the run stayed stable (finite, and
    never above its step-0 loss, the base's)."""
    finals: list[float] = []
    stable: list[bool] = []
    for lr in LR_GRID:
        model = with_lora(base, p, *start)
        layer = lora_of(model)
        curve, _ = train(model, [layer.lora_A, layer.lora_B], *train_part(task), steps=p.steps,
                         lr=lr, on_step=on_step)  # fmt: skip
        finals.append(evaluate(model, *train_part(task))[0])
        losses = [*curve, finals[-1]]
        stable.append(all(math.isfinite(x) and x <= curve[0] for x in losses))
    return SweepArm(final_losses=finals, stable=stable)


def roles(model: MLP, A_0: torch.Tensor, m: Measured) -> None:
    """How far A and B moved, and how much of ΔW is owed to A's move."""
    layer = lora_of(model)
    A_T, B_T = layer.lora_A.detach(), layer.lora_B.detach()
    m.a_relative_change = ((A_T - A_0).norm() / A_0.norm()).item()
    m.a_cosine = F.cosine_similarity(A_T.flatten(), A_0.flatten(), dim=0).item()
    m.b_final_norm = B_T.norm().item()
    delta = layer.delta_weight().detach()
    m.delta_w_norm = delta.norm().item()
    m.delta_w_a_change_share = (layer.scaling * B_T @ (A_T - A_0)).norm().item() / max(
        m.delta_w_norm, 1e-30
    )


def combine(base: MLP, deltas: list[torch.Tensor]) -> MLP:
    """``base`` with fc2's weight W + ΣΔW_i (the task LoRAs merged together)."""
    model = copy.deepcopy(base)
    with torch.no_grad():
        model.adapted_weight().add_(torch.stack(deltas).sum(0))
    return model


def task_arithmetic(
    base: MLP, models: tuple[MLP, MLP], tasks: tuple[Task, Task], m: Measured
) -> None:
    """Each task's test loss: the base, its own LoRA alone, and both LoRAs' ΔW added."""
    deltas = [lora_of(model).delta_weight().detach() for model in models]
    both = combine(base, deltas)
    for name, model, task in zip(("task2", "task3"), models, tasks, strict=True):
        m.arithmetic[f"loss_base_{name}"] = evaluate(base, *test_part(task))[0]
        m.arithmetic[f"loss_alone_{name}"] = evaluate(model, *test_part(task))[0]
        m.arithmetic[f"loss_sum_{name}"] = evaluate(both, *test_part(task))[0]
    m.arithmetic["task_delta_cosine"] = F.cosine_similarity(
        deltas[0].flatten(), deltas[1].flatten(), dim=0
    ).item()


def measure(p: LoRARolesParams, ctx: RunContext) -> Measured:
    gen = torch.Generator(device=ctx.device).manual_seed(p.seed)
    total = p.pretrain_steps + (len(ARMS) + 1 + len(SWEEP) * len(LR_GRID)) * p.steps
    done = [0]

    def phase(name: str) -> Callable[[int, float], None]:
        """Reports every 20th step and the last, the loss under the phase's own name
        (``words.PHASES``): each phase is its own line on the live chart."""
        metric = PHASES[name]

        def on_step(step: int, loss: float) -> None:
            done[0] += 1
            if done[0] % 20 == 0 or done[0] == total:
                ctx.progress(done[0], total, **{metric: loss})

        return on_step

    tasks = make_tasks(p, gen, ctx.device)
    base = MLP(D_IN, p.hidden, CLASSES, gen).to(ctx.device)
    train(base, base.parameters(), *train_part(tasks[0]), steps=p.pretrain_steps,
          lr=PRETRAIN_LR, on_step=phase("pretrain"))  # fmt: skip
    base.requires_grad_(False)
    # One A₀ and one random B₀ for every arm, as PEFT draws A: U(±1/√fan_in).
    A_0 = torch.empty(p.r, p.hidden, device=ctx.device)
    B_0 = torch.empty(p.hidden, p.r, device=ctx.device)
    for t in (A_0, B_0):
        nn.init.kaiming_uniform_(t, a=5**0.5, generator=gen)
    starts = {"standard": (A_0, B_0 * 0), "both_random": (A_0, B_0), "a_zero": (A_0 * 0, B_0)}
    m = Measured(loss_base_train=evaluate(base, *train_part(tasks[1]))[0])
    m.loss_base = evaluate(base, *test_part(tasks[1]))[0]
    m.base_task1 = evaluate(base, *test_part(tasks[0]))
    models: dict[str, MLP] = {}
    for name in INITS:
        models[name] = with_lora(base, p, *starts[name])
        # What the start does to the base's own task, before any step.
        m.step0_task1[name] = evaluate(models[name], *test_part(tasks[0]))
        m.arms[name] = run_arm(models[name], tasks[1], p, phase(name))
    roles(models["standard"], A_0, m)
    m.arms["lora_fa"] = run_arm(
        with_lora(base, p, *starts["standard"]), tasks[1], p, phase("lora_fa"), freeze_a=True
    )
    on_sweep, swept = phase("sweep"), sweep_starts(A_0, B_0)
    for arm in SWEEP:
        m.sweep[arm] = lr_sweep(base, tasks[1], p, swept[arm], on_sweep)
    # Task 3's LoRA: PEFT's init with its own A.
    A_3 = torch.empty(p.r, p.hidden, device=ctx.device)
    nn.init.kaiming_uniform_(A_3, a=5**0.5, generator=gen)
    model_3 = with_lora(base, p, A_3, B_0 * 0)
    run_arm(model_3, tasks[2], p, phase("task3"))
    task_arithmetic(base, (models["standard"], model_3), (tasks[1], tasks[2]), m)
    return m
