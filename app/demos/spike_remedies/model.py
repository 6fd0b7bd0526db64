"""The torch side of spike_remedies: loss_spikes' TinyGPT (its norms swapped for RMSNorm
where an arm asks), an init of a chosen std, and one training loop with the arm's switches:
AdamW or SGD, gradient clipping, constant or cosine lr, and PaLM's rewind-and-skip
(§5.1: on a spike, restart from a checkpoint ~100 steps earlier and skip ~200–500
batches; here ``rewind_steps`` back, skipping the batches in between). Also the fp16
softmax check. Imported only inside ``demo.run``.
"""

from __future__ import annotations

import copy
import math
from collections import deque
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from app.demos.loss_spikes.detector import SpikeDetector
from app.demos.loss_spikes.model import TinyGPT
from app.demos.spike_remedies.params import (
    CONTEXT,
    D_MODEL,
    N_HEAD,
    N_LAYER,
    Arm,
    SpikeRemediesParams,
)
from app.demos.spike_remedies.report import ArmLog, SoftmaxCheck

Batches = list[tuple[torch.Tensor, torch.Tensor]]


def build(vocab: int, arm: Arm, gen: torch.Generator) -> TinyGPT:
    """TinyGPT with weights N(0, init_std²) (biases 0, norms 1) from ``gen``."""
    model = TinyGPT(vocab, CONTEXT, D_MODEL, N_LAYER, N_HEAD)
    if arm.norm == "rmsnorm":
        for module in list(model.modules()):
            for name, child in list(module.named_children()):
                if isinstance(child, nn.LayerNorm):
                    setattr(module, name, nn.RMSNorm(child.normalized_shape))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Linear | nn.Embedding):
                module.weight.copy_(arm.init_std * torch.randn(module.weight.shape, generator=gen))
            if isinstance(module, nn.Linear) and module.bias is not None:
                module.bias.zero_()
    return model


def _lr(step: int, steps: int, peak: float, arm: Arm) -> float:
    if arm.schedule == "cosine":  # from peak at step 1 to 0 at the last step
        return peak * 0.5 * (1 + math.cos(math.pi * (step - 1) / max(1, steps - 1)))
    return peak


def _adam_v_rms(opt: torch.optim.Optimizer) -> float:
    """√(mean v) over every parameter: the size of the gradient Adam divides by."""
    total, count = 0.0, 0
    for state in opt.state.values():
        if "exp_avg_sq" in state:
            total += float(state["exp_avg_sq"].sum().item())
            count += state["exp_avg_sq"].numel()
    return math.sqrt(total / count) if count else 0.0


def _flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([q.detach().reshape(-1) for q in model.parameters()])


def train(
    model: TinyGPT,
    batches: Batches,
    arm: Arm,
    p: SpikeRemediesParams,
    device: str,
    on_step: Callable[[int, float], None],
) -> ArmLog:
    model.to(device)
    params = list(model.parameters())
    peak = p.lr if arm.optimizer == "adamw" else p.sgd_lr
    opt: torch.optim.Optimizer = (
        torch.optim.AdamW(params, lr=peak, weight_decay=0.1)
        if arm.optimizer == "adamw"
        else torch.optim.SGD(params, lr=peak)
    )
    detector = SpikeDetector(p.spike_k, p.median_window)
    checkpoints: deque[tuple[int, dict[str, object], dict[str, object]]] = deque(
        maxlen=p.rewind_steps + 1
    )
    log = ArmLog()
    for step, (x, y) in enumerate(batches, start=1):
        x, y = x.to(device), y.to(device)
        for group in opt.param_groups:
            group["lr"] = _lr(step, p.steps, peak, arm)
        if arm.rewind:
            checkpoints.append(
                (step, copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict()))
            )
        before = _flat(model)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        loss_value = float(loss.item())
        spike = detector.observe(loss_value)
        log.losses.append(loss_value)
        log.spikes.append(spike)
        if arm.rewind and spike and len(checkpoints) == checkpoints.maxlen:
            back, weights, state = checkpoints[0]
            model.load_state_dict(weights)
            opt.load_state_dict(state)
            log.rewinds += 1
            log.skipped_batches += step - back + 1  # the rewound updates and this batch
            checkpoints.clear()
            log.update_norms.append(0.0)
            log.v_rms.append(_adam_v_rms(opt))
            on_step(step, loss_value)
            continue
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        if arm.clip:
            torch.nn.utils.clip_grad_norm_(params, p.clip)
        opt.step()
        log.update_norms.append(float((_flat(model) - before).norm().item()))
        log.v_rms.append(_adam_v_rms(opt))
        on_step(step, loss_value)
    log.weights_finite = bool(torch.isfinite(_flat(model)).all())
    return log


def softmax_check(device: str) -> SoftmaxCheck:
    """exp(12) = 162,755 > 65,504: naive fp16 softmax gives inf / inf = NaN; subtracting
    the max first (what torch.softmax and logsumexp do) stays finite."""
    x = torch.tensor([12.0, 0.0, -4.0], dtype=torch.float16, device=device)
    naive = x.exp() / x.exp().sum()
    shifted = (x - x.max()).exp()
    stable = shifted / shifted.sum()
    exact = torch.softmax(x.double(), dim=0)
    lse = x.max() + shifted.sum().log()
    return SoftmaxCheck(
        naive_finite=bool(torch.isfinite(naive).all()),
        stable_finite=bool(torch.isfinite(stable).all()),
        stable_max_abs_err=float((stable.double() - exact).abs().max().item()),
        logsumexp_finite=bool(torch.isfinite(lse)),
        exp_max_logit_fp16=float(x.exp().max().item()),
    )
