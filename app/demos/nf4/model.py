"""The small models both demos train: an MLP labelled by a random teacher MLP on Gaussian
inputs (a synthetic classification task, seconds on a CPU), and the helpers that train
and evaluate it.

Weights are drawn from N(0, 1/fan_in) by default — a Gaussian init, as transformer
language models use, so trained weights stay roughly normal, the assumption NF4 is built
on; ``init="uniform"`` (nn.Linear's default, U(±1/√fan_in)) shows what happens when they
are not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Init = Literal["normal", "uniform"]


def init_linear_(layer: nn.Linear, generator: torch.Generator, init: Init) -> None:
    """W ~ N(0, 1/fan_in) or U(±1/√fan_in); bias 0 (normal) or U(±1/√fan_in) (uniform).
    Drawn from ``generator``, so global RNG state is never touched."""
    bound = 1 / math.sqrt(layer.in_features)
    with torch.no_grad():
        if init == "normal":
            nn.init.normal_(layer.weight, std=bound, generator=generator)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        else:
            nn.init.uniform_(layer.weight, -bound, bound, generator=generator)
            if layer.bias is not None:
                nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


class MLP(nn.Module):
    """x -> [Linear -> ReLU] × depth -> Linear: d_in -> hidden … hidden -> classes.

    ``layers`` is a ModuleList, so QLoRA can swap each nn.Linear for a 4-bit layer with
    a LoRA adapter in place.
    """

    def __init__(
        self,
        d_in: int,
        hidden: int,
        classes: int,
        depth: int,
        generator: torch.Generator,
        init: Init = "normal",
    ) -> None:
        super().__init__()
        widths = [d_in, *([hidden] * depth), classes]
        self.layers = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        for layer in self.layers:
            assert isinstance(layer, nn.Linear)
            init_linear_(layer, generator, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, d_in) -> (N, classes)
        *hidden_layers, head = self.layers
        for layer in hidden_layers:
            x = F.relu(layer(x))  # (N, hidden)
        logits: torch.Tensor = head(x)  # (N, classes)
        return logits

    def linears(self) -> list[nn.Linear]:
        out = [layer for layer in self.layers if isinstance(layer, nn.Linear)]
        assert len(out) == len(self.layers), "a layer was replaced; linears() is for fp models"
        return out


@dataclass
class Task:
    """Inputs and labels, split into a full training batch and held-out test rows."""

    X_train: torch.Tensor  # (n_train, d_in)
    y_train: torch.Tensor  # (n_train,)
    X_test: torch.Tensor  # (n_test, d_in)
    y_test: torch.Tensor  # (n_test,)

    def to(self, device: str) -> Task:
        return Task(*(t.to(device) for t in (self.X_train, self.y_train, self.X_test, self.y_test)))


def teacher_labels(teacher: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """Argmax of the teacher's logits standardised per class, so classes are balanced."""
    with torch.no_grad():
        logits: torch.Tensor = teacher(X)  # (N, classes)
        logits = (logits - logits.mean(0)) / logits.std(0)
    return logits.argmax(-1)  # (N,)


def make_task(teacher: nn.Module, X: torch.Tensor, n_train: int) -> Task:
    y = teacher_labels(teacher, X)
    return Task(X[:n_train], y[:n_train], X[n_train:], y[n_train:])


@torch.no_grad()
def shift_teacher(teacher: MLP, rank: int, generator: torch.Generator) -> None:
    """A second task: add a rank-``rank`` change of the same Frobenius norm as W to every
    hidden-to-hidden weight of ``teacher``, in place — a change LoRA can express."""
    for layer in teacher.linears()[1:-1]:
        W = layer.weight  # (hidden, hidden)
        r = min(rank, W.shape[0])
        U = torch.randn(W.shape[0], r, generator=generator)
        V = torch.randn(r, W.shape[1], generator=generator)
        shift = (U @ V).to(W.device)
        W += shift * (W.norm() / shift.norm())


def train(
    model: nn.Module,
    params: Iterable[nn.Parameter],
    task: Task,
    *,
    steps: int,
    lr: float,
    on_step: Callable[[int, float], None],
) -> list[float]:
    """Full-batch Adam on cross-entropy; the training loss before each step."""
    optimizer = torch.optim.Adam(params, lr=lr)
    losses: list[float] = []
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(task.X_train).float(), task.y_train)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        losses.append(loss.item())
        on_step(step, losses[-1])
    return losses


@torch.no_grad()
def evaluate(model: nn.Module, task: Task) -> tuple[float, float]:
    """(cross-entropy, accuracy) on the held-out rows."""
    logits: torch.Tensor = model(task.X_test).float()  # (n_test, classes)
    loss = F.cross_entropy(logits, task.y_test).item()
    return loss, (logits.argmax(-1) == task.y_test).float().mean().item()
