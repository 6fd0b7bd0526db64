"""The torch side of lora_vs_full: two tasks from a teacher MLP and its rank-``shift_rank``
change, a student pretrained on task 1, then each method (full fine-tuning of fc2, LoRA on
fc2 at each rank) trained on task 2 at every learning rate of the grid, the one with the
lowest validation loss kept. Everything is created on the run's device from one generator.

Imports torch at the top: only ``demo.run`` imports it, lazily.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from app.demos.base import RunContext
from app.demos.lora.layers import MLP, LoRALinear, evaluate, task_labels, train
from app.demos.lora.words import PHASES
from app.demos.lora_vs_full.params import (
    CLASSES,
    D_IN,
    LR_GRID,
    N_TEST,
    N_TRAIN,
    N_VAL,
    PRETRAIN_LR,
    SHIFT_STRENGTH,
    LoRAVsFullParams,
    ranks_of,
)
from app.demos.lora_vs_full.report import Arm, Measured


@dataclass
class Split:
    """One task's inputs and labels: train, validation (picks the lr), test (reported)."""

    X: torch.Tensor  # (N_TRAIN + N_VAL + N_TEST, D_IN)
    y: torch.Tensor  # (N_TRAIN + N_VAL + N_TEST,)

    def part(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        bounds = {"train": (0, N_TRAIN), "val": (N_TRAIN, N_TRAIN + N_VAL)}
        start, stop = bounds.get(name, (N_TRAIN + N_VAL, len(self.y)))
        return self.X[start:stop], self.y[start:stop]


def make_tasks(p: LoRAVsFullParams, gen: torch.Generator, device: str) -> tuple[Split, Split]:
    """Task 1: a random teacher MLP labels inputs x ~ N(0, I). Task 2: the same teacher with a
    rank-``shift_rank`` change to fc2 (norm ``SHIFT_STRENGTH``·‖fc2‖_F) labels inputs from a
    domain moved by ``domain_shift`` along a random unit direction (0: the same inputs)."""
    teacher_1 = MLP(D_IN, p.hidden, CLASSES, gen).to(device)
    teacher_2 = copy.deepcopy(teacher_1)
    s = p.shift_rank
    left = torch.randn(p.hidden, s, generator=gen, device=device)
    shift = left @ torch.randn(s, p.hidden, generator=gen, device=device)  # (hidden, hidden)
    with torch.no_grad():
        W_t = teacher_2.adapted_weight()
        W_t += SHIFT_STRENGTH * shift * (W_t.norm() / shift.norm())
    n = N_TRAIN + N_VAL + N_TEST
    X_1 = torch.randn(n, D_IN, generator=gen, device=device)
    u = torch.randn(D_IN, generator=gen, device=device)
    X_2 = torch.randn(n, D_IN, generator=gen, device=device) + p.domain_shift * u / u.norm()
    return Split(X_1, task_labels(teacher_1, X_1)), Split(X_2, task_labels(teacher_2, X_2))


class Progress:
    """Counts every training step of the run and reports every 20th and the last. Each
    phase reports its loss under its own name (``app.demos.lora.words.PHASES``): the live
    chart draws pre-training and each method as separate lines (a method's line restarts
    at each learning rate of the grid)."""

    def __init__(self, ctx: RunContext, total: int) -> None:
        self.ctx, self.total, self.done = ctx, total, 0

    def __call__(self, phase: str) -> Callable[[int, float], None]:
        name = PHASES[phase]

        def on_step(step: int, loss: float) -> None:
            self.done += 1
            if self.done % 20 == 0 or self.done == self.total:
                self.ctx.progress(self.done, self.total, **{name: loss})

        return on_step


def pretrain(
    p: LoRAVsFullParams, task_1: Split, gen: torch.Generator, device: str, progress: Progress
) -> MLP:
    base = MLP(D_IN, p.hidden, CLASSES, gen).to(device)
    X, y = task_1.part("train")
    train(
        base,
        base.parameters(),
        X,
        y,
        steps=p.pretrain_steps,
        lr=PRETRAIN_LR,
        on_step=progress("pretrain"),
    )
    return base.requires_grad_(False)


def full_arm(base: MLP) -> tuple[MLP, list[nn.Parameter]]:
    """A copy whose fc2 weight (only it: LoRA adapts the same matrix, no bias) trains."""
    model = copy.deepcopy(base)
    fc2 = model.fc2
    assert isinstance(fc2, nn.Linear)
    weight = fc2.weight
    assert isinstance(weight, nn.Parameter)
    weight.requires_grad_(True)
    return model, [weight]


def lora_arm(
    base: MLP, r: int, alpha: float, a_init: torch.Tensor, scratch: torch.Generator
) -> tuple[MLP, list[nn.Parameter]]:
    """A copy with LoRA (A = ``a_init``, B = 0) around its frozen fc2. The layer's own draw
    of A (from ``scratch``, not the run's generator nor the global one) is overwritten."""
    model = copy.deepcopy(base)
    fc2 = model.fc2
    assert isinstance(fc2, nn.Linear)
    layer = LoRALinear(fc2, r, alpha, generator=scratch)
    with torch.no_grad():
        layer.lora_A.copy_(a_init)
    model.fc2 = layer
    return model, [layer.lora_A, layer.lora_B]


def run_arm(
    build: Callable[[], tuple[MLP, list[nn.Parameter]]],
    tasks: tuple[Split, Split],
    p: LoRAVsFullParams,
    progress: Callable[[int, float], None],
) -> tuple[Arm, MLP]:
    """Train one method at every lr of the grid from the same start; keep the lr with the
    lowest validation loss on task 2 and report its test losses on both tasks."""
    task_1, task_2 = tasks
    X, y = task_2.part("train")
    best: tuple[float, float, list[float], MLP] | None = None
    val_losses: list[float] = []
    n_trainable = 0
    for lr in LR_GRID:
        model, trainable = build()
        n_trainable = sum(q.numel() for q in trainable)
        curve, _ = train(model, trainable, X, y, steps=p.steps, lr=lr, on_step=progress)
        val_losses.append(evaluate(model, *task_2.part("val"))[0])
        if best is None or val_losses[-1] < best[0]:
            best = (val_losses[-1], lr, curve, model)
    assert best is not None
    _, lr, curve, model = best
    loss, acc = evaluate(model, *task_2.part("test"))
    arm = Arm(
        lr=lr,
        loss=loss,
        accuracy=acc,
        task1_loss=evaluate(model, *task_1.part("test"))[0],
        curve=curve,
        trainable=float(n_trainable),
        val_losses=val_losses,
    )
    return arm, model


def restore_checks(base: MLP, model: MLP, task_1: Split, m: Measured) -> None:
    """Removing the adapter gives back the base exactly (W never trained); merging then
    unmerging gives it back up to fp32 rounding."""
    layer = model.fc2
    assert isinstance(layer, LoRALinear)
    W_0 = base.adapted_weight()
    m.adapter_removed_diff = max(
        m.adapter_removed_diff, (layer.base.weight - W_0).abs().max().item()
    )
    removed = copy.deepcopy(model)
    removed.fc2 = copy.deepcopy(layer.base)
    task1_diff = abs(evaluate(removed, *task_1.part("test"))[0] - m.task1_loss_base)
    m.adapter_removed_task1_diff = max(m.adapter_removed_task1_diff, task1_diff)
    layer.merge()
    m.weight_scale = max(m.weight_scale, layer.base.weight.abs().max().item())
    layer.unmerge()
    m.unmerge_diff = max(m.unmerge_diff, (layer.base.weight - W_0).abs().max().item())


def measure(p: LoRAVsFullParams, ctx: RunContext) -> Measured:
    gen = torch.Generator(device=ctx.device).manual_seed(p.seed)
    scratch = torch.Generator(device=ctx.device)
    ranks = ranks_of(p)
    total = p.pretrain_steps + (1 + len(ranks)) * len(LR_GRID) * p.steps
    progress = Progress(ctx, total)
    tasks = make_tasks(p, gen, ctx.device)
    base = pretrain(p, tasks[0], gen, ctx.device, progress)
    loss_2, acc_2 = evaluate(base, *tasks[1].part("test"))
    m = Measured(
        ranks=ranks,
        loss_base=loss_2,
        accuracy_base=acc_2,
        task1_loss_base=evaluate(base, *tasks[0].part("test"))[0],
        task1_accuracy_base=evaluate(base, *tasks[0].part("test"))[1],
    )
    m.arms["full"], _ = run_arm(lambda: full_arm(base), tasks, p, progress("full"))
    for r in ranks:
        # One A per rank, drawn once: every lr of the grid starts from the same LoRA.
        a_init = torch.empty(r, p.hidden, device=ctx.device)
        nn.init.kaiming_uniform_(a_init, a=5**0.5, generator=gen)  # PEFT's A: U(±1/√d_in)
        m.arms[f"lora_r{r}"], model = run_arm(
            lambda r=r, a=a_init: lora_arm(base, r, p.alpha, a, scratch),  # type: ignore[misc]
            tasks,
            p,
            progress(f"lora_r{r}"),
        )
        restore_checks(base, model, tasks[0], m)
    return m
