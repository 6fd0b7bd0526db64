"""The torch side of the LoRA demo: a LoRA layer shaped like PEFT's (``reset_parameters``,
``delta_weight``, ``merge``/``unmerge``, ``forward``), the tiny MLP it adapts, and the
helpers that train, evaluate and time it.

This module imports torch at the top, so only ``demo.run`` imports it, lazily:
the web process imports ``app.demos.lora`` for the catalogue and must not load torch.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from app.demos.lora.params import InitA, LoRAInit


def _draw_(
    tensor: torch.Tensor,
    generator: torch.Generator | None,
    fill: Callable[[torch.Tensor, torch.Generator | None], object],
) -> None:
    """Fill ``tensor`` in place with ``fill(t, generator)``, drawing on the generator's own
    device and copying over when they differ: a CPU generator can't fill a cuda tensor, and
    drawing on the CPU gives the same numbers on either device for one seed."""
    if generator is None or generator.device == tensor.device:
        fill(tensor, generator)
        return
    drawn = torch.empty(tensor.shape, dtype=tensor.dtype, device=generator.device)
    fill(drawn, generator)
    with torch.no_grad():
        tensor.copy_(drawn)


def _kaiming_(t: torch.Tensor, g: torch.Generator | None) -> object:
    return nn.init.kaiming_uniform_(t, a=math.sqrt(5), generator=g)  # U(±1/√fan_in)


def init_linear_(layer: nn.Linear, generator: torch.Generator) -> None:
    """nn.Linear's own default init, drawn from ``generator`` instead of the global RNG so
    a run is reproducible without touching global state: W ~ U(±1/√fan_in), b likewise."""
    _draw_(layer.weight, generator, _kaiming_)
    if layer.bias is not None:
        bound = 1 / math.sqrt(layer.in_features)
        _draw_(layer.bias, generator, lambda t, g: nn.init.uniform_(t, -bound, bound, generator=g))


class LoRALinear(nn.Module):
    """y = W x + b + (alpha/r) · B A x around a frozen ``nn.Linear`` (W, b).

    A is (r, d_in) and B is (d_out, r), so the update ΔW = (alpha/r) · B A is (d_out, d_in)
    with rank ≤ r, and only r · (d_in + d_out) numbers train instead of d_out · d_in.
    """

    def __init__(
        self,
        base: nn.Linear,
        r: int,
        alpha: float,
        *,
        init: LoRAInit = "standard",
        init_a: InitA = "kaiming_uniform",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if r < 1:
            raise ValueError(f"rank r must be at least 1 (got {r})")
        self.base = base
        self.base.requires_grad_(False)  # the pretrained weight stays frozen
        self.r = r
        self.alpha = alpha
        # Dividing by r keeps the update's size roughly independent of r, so changing r
        # does not force retuning the learning rate (LoRA paper §4.1).
        self.scaling = alpha / r
        weight = base.weight
        self.lora_A = nn.Parameter(
            torch.empty(r, base.in_features, device=weight.device, dtype=weight.dtype)
        )  # (r, d_in)
        self.lora_B = nn.Parameter(
            torch.empty(base.out_features, r, device=weight.device, dtype=weight.dtype)
        )  # (d_out, r)
        self.merged = False
        self.reset_parameters(init=init, init_a=init_a, generator=generator)

    def reset_parameters(
        self,
        *,
        init: LoRAInit = "standard",
        init_a: InitA = "kaiming_uniform",
        generator: torch.Generator | None = None,
    ) -> None:
        """``standard`` is PEFT's: A random, B zero. B = 0 makes ΔW = B A = 0, so the
        adapted model starts exactly at the pretrained one; A must still be random, because
        ∂L/∂B = scaling · (∂L/∂y) (A x)ᵀ would be zero with A = 0 too and nothing would
        ever move. ``both_random`` and ``both_zero`` are the two ways this can go wrong."""
        with torch.no_grad():
            if init == "both_zero":
                nn.init.zeros_(self.lora_A)
            elif init_a == "kaiming_uniform":
                # a = √5 as in PEFT (and nn.Linear): U(±1/√d_in).
                _draw_(self.lora_A, generator, _kaiming_)
            else:
                # PEFT's init_lora_weights="gaussian": N(0, 1/r²).
                std = 1 / self.r
                _draw_(
                    self.lora_A, generator, lambda t, g: nn.init.normal_(t, std=std, generator=g)
                )
            if init == "both_random":
                _draw_(self.lora_B, generator, _kaiming_)
            else:
                nn.init.zeros_(self.lora_B)

    def delta_weight(self) -> torch.Tensor:
        """ΔW = scaling · B A, (d_out, r) @ (r, d_in) -> (d_out, d_in)."""
        return self.scaling * (self.lora_B @ self.lora_A)

    @torch.no_grad()
    def merge(self) -> None:
        """Fold ΔW into W, so inference costs one matmul as for the base layer. Refuses a
        non-finite ΔW: adding it would corrupt W beyond what ``unmerge`` can restore."""
        if self.merged:
            return
        delta = self.delta_weight()
        if not torch.isfinite(delta).all():
            raise ValueError("LoRA delta weight has NaN or inf entries; refusing to merge")
        self.base.weight += delta
        self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """Take ΔW back out of W (exact up to float rounding)."""
        if not self.merged:
            return
        self.base.weight -= self.delta_weight()
        self.merged = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., d_in) -> (..., d_out)
        result: torch.Tensor = self.base(x)
        if self.merged:
            return result
        # B (A x) costs r · (d_in + d_out) per row, never forming the d_out × d_in ΔW.
        return result + self.scaling * F.linear(F.linear(x, self.lora_A), self.lora_B)


class MLP(nn.Module):
    """x -> fc1 -> ReLU -> fc2 -> ReLU -> head: the tiny model (and its teachers).
    fc2, the square hidden layer, is the one LoRA adapts."""

    def __init__(self, d_in: int, hidden: int, classes: int, generator: torch.Generator) -> None:
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2: nn.Module = nn.Linear(hidden, hidden)
        self.head = nn.Linear(hidden, classes)
        for layer in (self.fc1, self.fc2, self.head):
            assert isinstance(layer, nn.Linear)
            init_linear_(layer, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, d_in) -> (N, classes)
        hidden = F.relu(self.fc1(x))  # (N, hidden)
        hidden = F.relu(self.fc2(hidden))  # (N, hidden)
        logits: torch.Tensor = self.head(hidden)  # (N, classes)
        return logits

    def adapted_weight(self) -> torch.Tensor:
        """fc2's effective weight, (hidden, hidden), whether or not LoRA wraps it."""
        fc2 = self.fc2
        if isinstance(fc2, LoRALinear):
            weight = fc2.base.weight
            return weight if fc2.merged else weight + fc2.delta_weight()
        assert isinstance(fc2, nn.Linear)
        return fc2.weight


# The helpers the demo trains and measures with (torch-typed, so they live here too).


def task_labels(teacher: MLP, X: torch.Tensor) -> torch.Tensor:
    """Argmax of the teacher's logits standardised per class, so the classes are balanced."""
    with torch.no_grad():
        logits: torch.Tensor = teacher(X)  # (N, classes)
        logits = (logits - logits.mean(0)) / logits.std(0)
    return logits.argmax(-1)  # (N,)


def train(
    model: nn.Module,
    params: Iterable[nn.Parameter],
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int,
    lr: float,
    on_step: Callable[[int, float], None],
) -> tuple[list[float], torch.optim.Optimizer]:
    """Full-batch Adam on cross-entropy: the loss before each step, and the optimizer (its
    state is part of the memory bill)."""
    optimizer = torch.optim.Adam(params, lr=lr)
    losses: list[float] = []
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(X), y)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        losses.append(loss.item())
        on_step(step, losses[-1])
    return losses, optimizer


@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(cross-entropy, accuracy) on held-out inputs."""
    logits: torch.Tensor = model(X)  # (N, classes)
    return F.cross_entropy(logits, y).item(), (logits.argmax(-1) == y).float().mean().item()


def state_bytes(model: nn.Module, optimizer: torch.optim.Optimizer) -> int:
    """Bytes of every parameter (frozen ones too), the gradients and Adam's two moments."""
    tensors: list[torch.Tensor] = list(model.parameters())
    tensors += [q.grad for q in model.parameters() if q.grad is not None]
    tensors += [
        t for state in optimizer.state.values() for t in state.values() if t.is_floating_point()
    ]
    return sum(t.numel() * t.element_size() for t in tensors)


@torch.no_grad()
def median_latencies_ms(
    models: Mapping[str, nn.Module], X: torch.Tensor, *, repeats: int, warmup: int = 3
) -> dict[str, float]:
    """Median forward time per model. Rounds interleave the models, so a slow patch of the
    machine (another process, a frequency change) hits all of them alike."""

    def sync() -> None:
        if X.device.type == "cuda":  # kernels are asynchronous: wait before reading the clock
            torch.cuda.synchronize()

    times: dict[str, list[float]] = {name: [] for name in models}
    for round_ in range(warmup + repeats):
        for name, model in models.items():
            sync()
            start = time.perf_counter()
            model(X)
            sync()
            if round_ >= warmup:
                times[name].append((time.perf_counter() - start) * 1e3)
    return {name: statistics.median(ts) for name, ts in times.items()}
