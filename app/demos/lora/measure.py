"""The LoRA demo's run, step by step, in torch: the two tasks, pretraining, full
fine-tuning, LoRA at each rank, the SVD of full fine-tuning's update, and merging. Each step
fills its part of ``report.Measured``; ``measure`` calls them in order.

This module imports torch at the top, so only ``demo.run`` imports it, lazily.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from app.demos.base import RunContext
from app.demos.lora.layers import (
    MLP,
    LoRALinear,
    evaluate,
    median_latencies_ms,
    state_bytes,
    task_labels,
    train,
)
from app.demos.lora.params import CLASSES, D_IN, N_TEST, N_TRAIN, RANKS, SHIFT_STRENGTH, LoRAParams
from app.demos.lora.report import LATENCY_REPEATS, Measured
from app.demos.lora.words import PHASES


class Progress:
    """Counts the run's training steps across every phase and reports every 10th step of a
    phase and its last (the page redraws; every 10 steps is plenty). Each phase reports its
    loss under its own name (``words.PHASES``), so the live chart draws pre-training, full
    fine-tuning and each rank as separate lines: the switch to task 2 is not a spike."""

    def __init__(self, ctx: RunContext, total: int) -> None:
        self.ctx, self.total, self.done = ctx, total, 0

    def __call__(self, phase: str, steps: int) -> Callable[[int, float], None]:
        name = PHASES[phase]

        def on_step(step: int, loss: float) -> None:
            self.done += 1
            if step % 10 == 0 or step == steps - 1 or self.done == self.total:
                self.ctx.progress(self.done, self.total, **{name: loss})

        return on_step


@dataclass
class Tasks:
    """Inputs and labels on the run's device: task 1 (pretraining) and task 2 (adapting)."""

    X_train: torch.Tensor  # (N_TRAIN, D_IN)
    X_test: torch.Tensor  # (N_TEST, D_IN)
    y_1: torch.Tensor  # (N_TRAIN + N_TEST,)
    y_2: torch.Tensor  # (N_TRAIN + N_TEST,)

    @property
    def y2_train(self) -> torch.Tensor:
        return self.y_2[:N_TRAIN]

    @property
    def y2_test(self) -> torch.Tensor:
        return self.y_2[N_TRAIN:]


def make_tasks(p: LoRAParams, gen: torch.Generator, device: str) -> Tasks:
    """A random teacher labels Gaussian inputs (task 1); task 2's teacher is the same
    network with a rank-``shift_rank`` change to its hidden layer."""
    teacher_1 = MLP(D_IN, p.hidden, CLASSES, gen)
    teacher_2 = copy.deepcopy(teacher_1)
    s = min(p.shift_rank, p.hidden)
    shift = torch.randn(p.hidden, s, generator=gen) @ torch.randn(s, p.hidden, generator=gen)
    with torch.no_grad():
        W_t = teacher_2.adapted_weight()  # (hidden, hidden)
        W_t += SHIFT_STRENGTH * shift * (W_t.norm() / shift.norm())  # a rank-s change
    X = torch.randn(N_TRAIN + N_TEST, D_IN, generator=gen)  # (N, D_IN)
    y_1, y_2 = task_labels(teacher_1, X), task_labels(teacher_2, X)  # (N,) each
    X, y_1, y_2 = X.to(device), y_1.to(device), y_2.to(device)
    return Tasks(X_train=X[:N_TRAIN], X_test=X[N_TRAIN:], y_1=y_1, y_2=y_2)


def pretrain(
    p: LoRAParams, tasks: Tasks, gen: torch.Generator, device: str, progress: Progress
) -> tuple[MLP, Measured]:
    """The student pretrained on task 1 (frozen after), and what it scores before adapting."""
    base = MLP(D_IN, p.hidden, CLASSES, gen).to(device)
    train(
        base, base.parameters(), tasks.X_train, tasks.y_1[:N_TRAIN],
        steps=p.pretrain_steps, lr=p.lr, on_step=progress("pretrain", p.pretrain_steps),
    )  # fmt: skip
    base.requires_grad_(False)
    m = Measured(
        ranks=[k for k in RANKS if k <= p.hidden],
        on_cuda=device == "cuda",
        agreement=(tasks.y_1 == tasks.y_2).float().mean().item(),
        pretrain_acc=evaluate(base, tasks.X_test, tasks.y_1[N_TRAIN:])[1],
        loss_base=evaluate(base, tasks.X_test, tasks.y2_test)[0],
        acc_base=evaluate(base, tasks.X_test, tasks.y2_test)[1],
    )
    return base, m


def memory_before(m: Measured) -> int:
    if not m.on_cuda:
        return 0
    torch.cuda.reset_peak_memory_stats()
    return torch.cuda.memory_allocated()


def finish(
    m: Measured, key: str, model: MLP, optimizer: torch.optim.Optimizer, before: int, t: Tasks
) -> None:
    """A method's memory (the CUDA allocator's peak above what was live before it began, or
    its state's bytes on the CPU) and its held-out loss and accuracy."""
    if m.on_cuda:
        m.memory[key] = float(torch.cuda.max_memory_allocated() - before)
    else:
        m.memory[key] = float(state_bytes(model, optimizer))
    m.losses[key], m.accs[key] = evaluate(model, t.X_test, t.y2_test)


def fine_tune_full(
    p: LoRAParams, base: MLP, tasks: Tasks, m: Measured, progress: Progress
) -> torch.Tensor:
    """Every parameter of a copy of the pretrained student trains; returns ΔW of fc2."""
    before = memory_before(m)
    full = copy.deepcopy(base).requires_grad_(True)
    m.trainable["full"] = float(sum(q.numel() for q in full.parameters()))
    m.curves["full"], optimizer = train(
        full, full.parameters(), tasks.X_train, tasks.y2_train,
        steps=p.steps, lr=p.lr, on_step=progress("full", p.steps),
    )  # fmt: skip
    finish(m, "full", full, optimizer, before, tasks)
    return (full.adapted_weight() - base.adapted_weight()).detach()  # (hidden, hidden)


def adapt_lora(
    p: LoRAParams, r: int, base: MLP, tasks: Tasks, m: Measured, *,
    gen: torch.Generator, device: str, progress: Progress,
) -> MLP:  # fmt: skip
    """LoRA at rank r on a copy's fc2 (base stays untouched): step 0's output change and
    gradients, then training; returns the trained copy."""
    key = f"lora_r{r}"
    before = memory_before(m)
    lora = copy.deepcopy(base)
    fc2 = lora.fc2
    assert isinstance(fc2, torch.nn.Linear)
    layer = LoRALinear(fc2, r, p.alpha, init=p.init, init_a=p.init_a, generator=gen)
    lora.fc2 = layer.to(device)
    n_trainable = sum(q.numel() for q in lora.parameters() if q.requires_grad)
    m.formula_ok &= n_trainable == r * (p.hidden + p.hidden)  # r · (d_in + d_out)
    m.trainable[key] = float(n_trainable)

    # Step 0: the forward and backward the first training step makes, read before it.
    with torch.no_grad():
        out_diff = (lora(tasks.X_test) - base(tasks.X_test)).abs().max().item()
    F.cross_entropy(lora(tasks.X_train), tasks.y2_train).backward()  # type: ignore[no-untyped-call]
    assert layer.lora_A.grad is not None and layer.lora_B.grad is not None
    m.step0[r] = (out_diff, layer.lora_A.grad.norm().item(), layer.lora_B.grad.norm().item())
    layer.zero_grad(set_to_none=True)

    m.curves[key], optimizer = train(
        lora, [layer.lora_A, layer.lora_B], tasks.X_train, tasks.y2_train,
        steps=p.steps, lr=p.lr, on_step=progress(f"lora_r{r}", p.steps),
    )  # fmt: skip
    finish(m, key, lora, optimizer, before, tasks)
    m.delta_norms[r] = layer.delta_weight().norm().item()
    curve = m.curves[key]
    m.stuck[r] = abs(curve[-1] - curve[0]) <= 1e-7 * max(1.0, curve[0])
    return lora


def measure_spectrum(delta_full: torch.Tensor, m: Measured) -> None:
    """How much of full fine-tuning's ΔW energy lies in its top k singular directions?"""
    sigma = torch.linalg.svdvals(delta_full.double()).cpu()  # (hidden,), descending
    energy = sigma.square().cumsum(0) / sigma.square().sum()  # (hidden,)
    m.sigma = sigma.tolist()
    m.energy_top = {k: energy[k - 1].item() for k in m.ranks}


def measure_merge(base: MLP, lora: MLP, X_test: torch.Tensor, m: Measured) -> None:
    """Merging the largest rank's trained model: merged vs unmerged vs the bare base, then
    unmerging back to the pretrained weight."""
    W_0 = base.adapted_weight().detach().clone()  # (hidden, hidden): pretrained fc2
    merged = copy.deepcopy(lora)
    merged_layer = merged.fc2
    assert isinstance(merged_layer, LoRALinear)
    merged_layer.merge()
    with torch.no_grad():
        unmerged_out = lora(X_test)  # (N_TEST, CLASSES)
        m.merge_diff = (merged(X_test) - unmerged_out).abs().max().item()
        m.output_scale = unmerged_out.abs().max().item()
        m.weight_scale = merged_layer.base.weight.abs().max().item()
    models = {"base": base, "unmerged": lora, "merged": merged}
    m.latency_ms = median_latencies_ms(models, X_test, repeats=LATENCY_REPEATS)
    merged_layer.unmerge()
    m.unmerge_diff = (merged_layer.base.weight - W_0).abs().max().item()


def measure(p: LoRAParams, ctx: RunContext) -> Measured:
    # Everything random is drawn on the CPU from one generator, then moved: the same seed
    # gives the same data and inits on either device, and global RNG state is untouched.
    gen = torch.Generator().manual_seed(p.seed)
    n_ranks = len([k for k in RANKS if k <= p.hidden])
    progress = Progress(ctx, p.pretrain_steps + p.steps * (1 + n_ranks))
    tasks = make_tasks(p, gen, ctx.device)
    base, m = pretrain(p, tasks, gen, ctx.device, progress)
    delta_full = fine_tune_full(p, base, tasks, m, progress)
    lora = base
    for r in m.ranks:
        lora = adapt_lora(p, r, base, tasks, m, gen=gen, device=ctx.device, progress=progress)
    measure_spectrum(delta_full, m)
    measure_merge(base, lora, tasks.X_test, m)
    return m
