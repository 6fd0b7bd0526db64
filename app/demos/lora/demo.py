"""LoRA, step by step: a tiny MLP pretrained on one synthetic task and adapted to a second,
by full fine-tuning and by LoRA at ranks 1–16, to measure what LoRA's answers claim.

The story: a random teacher MLP labels Gaussian inputs (task 1); task 2's teacher is the
same network with a rank-``shift_rank`` change to its hidden layer. The student is
pretrained on task 1, then adapted to task 2. At LoRA's step 0 we measure the output
change and the gradients of A and B under the chosen init; we train full fine-tuning and
LoRA on the student's hidden layer fc2; we take the SVD of full fine-tuning's ΔW of fc2;
and we merge W + (alpha/r)·BA and time the forward pass merged, unmerged and bare.

torch (and ``layers``, which imports it) is imported inside ``run``: the web process
imports this module for the catalogue and must not load torch.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from app.demos.base import Demo, DemoResult, RunContext
from app.demos.lora.params import CLASSES, D_IN, N_TEST, N_TRAIN, RANKS, SHIFT_STRENGTH, LoRAParams
from app.demos.lora.report import LATENCY_REPEATS, Measured, figure_names, result_of


def run(params: LoRAParams, ctx: RunContext) -> DemoResult:
    import torch
    import torch.nn.functional as F

    from app.demos.lora.layers import (
        MLP,
        LoRALinear,
        evaluate,
        median_latencies_ms,
        state_bytes,
        task_labels,
        train,
    )

    p = params
    device = ctx.device
    ranks = [k for k in RANKS if k <= p.hidden]
    total = p.pretrain_steps + p.steps * (1 + len(ranks))
    done = 0

    def report(**metrics: float) -> Callable[[int, float], None]:
        def on_step(step: int, loss: float) -> None:
            nonlocal done
            done += 1
            if step % 10 == 0 or done == total:  # the page redraws; every 10 steps is plenty
                ctx.progress(done, total, loss=loss, **metrics)

        return on_step

    # Everything random is drawn on the CPU from one generator, then moved: the same seed
    # gives the same data and inits on either device, and global RNG state is untouched.
    gen = torch.Generator().manual_seed(p.seed)
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
    X_train, X_test = X[:N_TRAIN], X[N_TRAIN:]
    y2_train, y2_test = y_2[:N_TRAIN], y_2[N_TRAIN:]

    base = MLP(D_IN, p.hidden, CLASSES, gen).to(device)
    train(
        base, base.parameters(), X_train, y_1[:N_TRAIN],
        steps=p.pretrain_steps, lr=p.lr, on_step=report(),
    )  # fmt: skip
    base.requires_grad_(False)
    m = Measured(
        ranks=ranks,
        on_cuda=device == "cuda",
        agreement=(y_1 == y_2).float().mean().item(),
        pretrain_acc=evaluate(base, X_test, y_1[N_TRAIN:])[1],
        loss_base=evaluate(base, X_test, y2_test)[0],
        acc_base=evaluate(base, X_test, y2_test)[1],
    )
    W_0 = base.adapted_weight().detach().clone()  # (hidden, hidden): pretrained fc2

    def memory_before() -> int:
        if not m.on_cuda:
            return 0
        torch.cuda.reset_peak_memory_stats()
        return torch.cuda.memory_allocated()

    def memory_used(model: MLP, optimizer: torch.optim.Optimizer, before: int) -> float:
        if m.on_cuda:  # the allocator's peak above what was live before the method began
            return float(torch.cuda.max_memory_allocated() - before)
        return float(state_bytes(model, optimizer))

    def finish(key: str, model: MLP, optimizer: torch.optim.Optimizer, before: int) -> None:
        m.memory[key] = memory_used(model, optimizer, before)
        m.losses[key], m.accs[key] = evaluate(model, X_test, y2_test)

    # Full fine-tuning: every parameter of a copy of the pretrained student trains.
    before = memory_before()
    full = copy.deepcopy(base).requires_grad_(True)
    m.trainable["full"] = float(sum(q.numel() for q in full.parameters()))
    m.curves["full"], optimizer = train(
        full, full.parameters(), X_train, y2_train, steps=p.steps, lr=p.lr, on_step=report(full=1)
    )
    finish("full", full, optimizer, before)
    delta_full = (full.adapted_weight() - W_0).detach()  # (hidden, hidden)

    lora = base
    for r in ranks:
        key = f"lora_r{r}"
        before = memory_before()
        lora = copy.deepcopy(base)  # the wrapped fc2 is the copy's: base stays untouched
        fc2 = lora.fc2
        assert isinstance(fc2, torch.nn.Linear)
        layer = LoRALinear(fc2, r, p.alpha, init=p.init, init_a=p.init_a, generator=gen)
        lora.fc2 = layer.to(device)
        n_trainable = sum(q.numel() for q in lora.parameters() if q.requires_grad)
        m.formula_ok &= n_trainable == r * (p.hidden + p.hidden)  # r · (d_in + d_out)
        m.trainable[key] = float(n_trainable)

        # Step 0: the forward and backward the first training step makes, read before it.
        with torch.no_grad():
            out_diff = (lora(X_test) - base(X_test)).abs().max().item()
        F.cross_entropy(lora(X_train), y2_train).backward()  # type: ignore[no-untyped-call]
        assert layer.lora_A.grad is not None and layer.lora_B.grad is not None
        m.step0[r] = (out_diff, layer.lora_A.grad.norm().item(), layer.lora_B.grad.norm().item())
        layer.zero_grad(set_to_none=True)

        m.curves[key], optimizer = train(
            lora, [layer.lora_A, layer.lora_B], X_train, y2_train,
            steps=p.steps, lr=p.lr, on_step=report(rank=r),
        )  # fmt: skip
        finish(key, lora, optimizer, before)
        m.delta_norms[r] = layer.delta_weight().norm().item()
        curve = m.curves[key]
        m.stuck[r] = abs(curve[-1] - curve[0]) <= 1e-7 * max(1.0, curve[0])

    # How much of full fine-tuning's ΔW energy lies in its top k singular directions?
    sigma = torch.linalg.svdvals(delta_full.double()).cpu()  # (hidden,), descending
    energy = sigma.square().cumsum(0) / sigma.square().sum()  # (hidden,)
    m.sigma = sigma.tolist()
    m.energy_top = {k: energy[k - 1].item() for k in ranks}

    # Merging, on the largest rank's trained model: merged vs unmerged vs the bare base.
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
    return result_of(p, m)


DEMO = Demo(
    name="lora",
    title="LoRA, step by step",
    summary=(
        "Pretrains a tiny MLP on a synthetic classification task set by a random teacher, "
        "then adapts it to a second task whose teacher differs by a low-rank change to its "
        "hidden layer. Shows LoRA's initialisation at step 0 (A random and B zero: the "
        "output is unchanged and only B gets a gradient; or the two ways it goes wrong), "
        "trains full fine-tuning against LoRA at ranks 1–16 on the hidden layer (loss "
        "curves, trainable parameters, accuracy, memory), measures how much of full "
        "fine-tuning's update lies in its top singular directions, and merges W + (alpha/r)·BA "
        "into the weight, comparing outputs and forward latency merged, unmerged and bare."
    ),
    claims=(
        "LoRA trains O(r(d+k)) parameters instead of O(dk)",
        "B = 0 at initialisation makes ΔW = 0, so training starts at the pretrained model",
        "With B = 0 only B gets a gradient at the first step",
        "Fine-tuning updates lie close to a low-rank subspace",
        "A merged LoRA adds no inference latency",
        "LoRA needs less training memory than full fine-tuning",
    ),
    params=LoRAParams,
    run=run,
    time_limit_s=60.0,
    figure_names=figure_names,
)
