"""The QLoRA demo's measurements (torch): pretrain an MLP in fp32 on task 1, freeze it,
then train LoRA adapters on task 2 twice from the same initialisation — on the
full-precision base, and on the base stored in NF4 and dequantized on the fly — and
measure losses, stored bytes, dtypes, gradients and (on a GPU) paged 8-bit AdamW.

``demo.run`` imports this lazily; ``report`` turns the numbers into the result.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from app.demos.base import RunContext
from app.demos.nf4.model import MLP, Task, make_task, shift_teacher, train
from app.demos.nf4.model import evaluate as evaluate_model
from app.demos.nf4.quant import nf4_code
from app.demos.qlora.layers import Linear4bit, LoRALinear, full_precision_copies
from app.demos.qlora.paged import measure_paged
from app.demos.qlora.params import QLoRAParams
from app.demos.qlora.report import QLoRAMeasured

D_IN = 8
CLASSES = 4
DEPTH = 3  # hidden layers: 4 linear layers in all, each frozen and adapted
N_TRAIN = 4096
N_TEST = 2048
PRETRAIN_LR = 3e-3  # Adam on all weights, task 1
DTYPES = {"bf16": torch.bfloat16, "fp32": torch.float32}


def compute_dtype_for(p: QLoRAParams, device: str) -> torch.dtype:
    """bf16 where the device supports it: every CPU torch build, GPUs from Ampere on."""
    if p.compute_dtype == "bf16" and (device != "cuda" or torch.cuda.is_bf16_supported()):
        return torch.bfloat16
    return torch.float32


def adapt(
    base: MLP, p: QLoRAParams, gen: torch.Generator, *, four_bit: bool, compute_dtype: torch.dtype
) -> MLP:
    """A copy of ``base`` whose every linear layer is frozen (as nn.Linear, or in NF4) and
    wrapped in a LoRA adapter drawn from ``gen``."""
    model = copy.deepcopy(base)
    for i, linear in enumerate(model.linears()):
        frozen: nn.Module = linear
        if four_bit:  # the nn.Linear and its fp32 weight are dropped with the old layer
            frozen = Linear4bit(
                linear,
                nf4_code(),
                blocksize=p.blocksize,
                double_quant=p.double_quant,
                compute_dtype=compute_dtype,
            )
        model.layers[i] = LoRALinear(
            frozen,
            linear.in_features,
            linear.out_features,
            r=p.r,
            alpha=p.alpha,
            dtype=DTYPES[p.adapter_dtype],
            generator=gen,
        )
    return model


def four_bit_layers(model: nn.Module) -> list[Linear4bit]:
    return [module for module in model.modules() if isinstance(module, Linear4bit)]


def adapter_parameters(model: nn.Module) -> list[nn.Parameter]:
    return [q for name, q in model.named_parameters() if "lora_" in name]


def dequant_calls(model: nn.Module) -> int:
    return sum(layer.dequant_calls for layer in four_bit_layers(model))


def measure_model(model: MLP, weight_shapes: set[tuple[int, ...]], m: QLoRAMeasured) -> None:
    """Storage, dtypes and gradients of the trained QLoRA model."""
    layers = four_bit_layers(model)
    m.base_bytes_nf4 = sum(layer.stored_weight_bytes() for layer in layers)
    m.full_precision_copies["qlora"] = full_precision_copies(model, weight_shapes)
    base = [
        t for name, t in [*model.named_parameters(), *model.named_buffers()] if "lora_" not in name
    ]
    m.base_tensors_with_grad = sum(t.grad is not None for t in base)
    m.base_tensors_requiring_grad = sum(t.requires_grad for t in base)
    adapters = adapter_parameters(model)
    m.adapter_params = sum(q.numel() for q in adapters)
    grads = [q.grad.float().norm() for q in adapters if q.grad is not None]
    m.adapter_grad_norm = torch.stack(grads).norm().item() if grads else 0.0
    m.adapter_bits = 8 * adapters[0].dtype.itemsize


class Progress:
    """Counts the run's training steps across every model and reports every 10th."""

    def __init__(self, ctx: RunContext, total: int) -> None:
        self.ctx, self.total, self.done = ctx, total, 0

    def __call__(self, **metrics: float) -> Callable[[int, float], None]:
        def on_step(step: int, loss: float) -> None:
            self.done += 1
            if step % 10 == 0:
                self.ctx.progress(self.done, self.total, loss=loss, **metrics)

        return on_step


def make_tasks(p: QLoRAParams, gen: torch.Generator, device: str) -> tuple[Task, Task]:
    """Task 1 from a random teacher; task 2 from the same teacher after a low-rank shift."""
    teacher = MLP(D_IN, p.hidden, CLASSES, DEPTH, gen)
    X = torch.randn(N_TRAIN + N_TEST, D_IN, generator=gen)  # (N, d_in)
    task_1 = make_task(teacher, X, N_TRAIN).to(device)
    shift_teacher(teacher, p.shift_rank, gen)
    task_2: Task = make_task(teacher, X, N_TRAIN).to(device)
    return task_1, task_2


def pretrain(
    p: QLoRAParams, tasks: tuple[Task, Task], gen: torch.Generator, device: str, *,
    m: QLoRAMeasured, progress: Progress,
) -> MLP:  # fmt: skip
    """The base MLP trained in fp32 on task 1, then frozen; what it scores on both tasks."""
    task_1, task_2 = tasks
    base = MLP(D_IN, p.hidden, CLASSES, DEPTH, gen).to(device)
    m.pretrain_curve = train(
        base, base.parameters(), task_1, steps=p.pretrain_steps, lr=PRETRAIN_LR, on_step=progress()
    )
    base.requires_grad_(False)
    linears = base.linears()
    m.layers = len(linears)
    m.base_weight_params = sum(layer.weight.numel() for layer in linears)
    m.loss["task1_fp32_base"], m.accuracy["task1_fp32_base"] = evaluate_model(base, task_1)
    m.loss["task2_fp32_base"], m.accuracy["task2_fp32_base"] = evaluate_model(base, task_2)
    return base


def train_adapters(
    p: QLoRAParams, model: MLP, key: str, task_2: Task, m: QLoRAMeasured, progress: Progress
) -> None:
    m.curves[key] = train(
        model, adapter_parameters(model), task_2,
        steps=p.steps, lr=p.lr, on_step=progress(qlora=float(key == "qlora")),
    )  # fmt: skip
    m.loss[key], m.accuracy[key] = evaluate_model(model, task_2)


def measure(p: QLoRAParams, ctx: RunContext) -> QLoRAMeasured:
    device = ctx.device
    compute_dtype = compute_dtype_for(p, device)
    m = QLoRAMeasured(compute_bits=8 * compute_dtype.itemsize)
    total = p.pretrain_steps + 2 * p.steps + 1
    progress = Progress(ctx, total)
    # Everything random is drawn on the CPU from one generator, then moved: the same seed
    # gives the same data and inits on either device, and global RNG state is untouched.
    gen = torch.Generator().manual_seed(p.seed)
    task_1, task_2 = make_tasks(p, gen, device)
    base = pretrain(p, (task_1, task_2), gen, device, m=m, progress=progress)
    weight_shapes = {tuple(layer.weight.shape) for layer in base.linears()}

    adapter_init = gen.get_state()  # both runs draw the same A matrices
    lora_fp = adapt(base, p, gen, four_bit=False, compute_dtype=torch.float32)
    m.full_precision_copies["lora_fp"] = full_precision_copies(lora_fp, weight_shapes)
    train_adapters(p, lora_fp, "lora_fp", task_2, m, progress)

    gen.set_state(adapter_init)
    qlora = adapt(base, p, gen, four_bit=True, compute_dtype=compute_dtype)
    # B = 0, so this is the NF4 base alone; one forward is one dequantization per layer.
    before = dequant_calls(qlora)
    m.loss["task1_nf4_base"], m.accuracy["task1_nf4_base"] = evaluate_model(qlora, task_1)
    m.dequant_calls_per_forward = float(dequant_calls(qlora) - before)
    before = dequant_calls(qlora)
    train_adapters(p, qlora, "qlora", task_2, m, progress)
    m.dequant_calls_per_step = (dequant_calls(qlora) - before - m.layers) / p.steps
    measure_model(qlora, weight_shapes, m)

    m.paged = measure_paged(device, gen)
    ctx.progress(total, total, loss_qlora=m.loss["qlora"], loss_lora_fp=m.loss["lora_fp"])
    return m
