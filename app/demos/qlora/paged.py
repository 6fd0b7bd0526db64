"""Paged 8-bit AdamW against plain AdamW on a GPU: peak memory of the same training steps.

Only on ``device == "cuda"`` with bitsandbytes importable; anywhere else (and on any
error) the result says why it was not measured and the figures stay NaN.

A stack of square layers (4 × 4096², 67M fp32 parameters) is trained for a few steps with
``torch.optim.AdamW`` (two fp32 states per parameter: 8 bytes), ``bitsandbytes.optim.
AdamW8bit`` (two 8-bit states: 2 bytes) and ``PagedAdamW8bit`` (the same 8-bit states,
allocated in CUDA unified memory, which the driver pages to CPU RAM under memory pressure
instead of failing). ``torch.cuda.max_memory_allocated`` counts only PyTorch's own
allocator, so paged states do not appear in it — that is the point of paging, and why the
optimizer-state bytes are reported separately, summed from the state tensors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from app.demos.qlora.report import PagedMeasured
from app.demos.text import N_

PAGED_WIDTH = 4096
PAGED_LAYERS = 4
PAGED_BATCH = 64
PAGED_STEPS = 3
GB = 10**9


def _state_bytes(optimizer: torch.optim.Optimizer) -> int:
    return sum(
        t.numel() * t.element_size()
        for state in optimizer.state.values()
        for t in state.values()
        if isinstance(t, torch.Tensor)
    )


def measure_paged(device: str, generator: torch.Generator) -> PagedMeasured:
    if device != "cuda":
        return PagedMeasured(reason=N_("needs a CUDA GPU (this run is on the CPU)"))
    try:
        import bitsandbytes.optim

        bnb_optim: Any = bitsandbytes.optim  # its optimizers are untyped
    except Exception as exc:
        return PagedMeasured(reason=f"bitsandbytes does not import: {exc}")
    # One set of initial weights and one batch, drawn on the CPU, for every optimizer.
    weights = [
        torch.randn(PAGED_WIDTH, PAGED_WIDTH, generator=generator) / math.sqrt(PAGED_WIDTH)
        for _ in range(PAGED_LAYERS)
    ]
    x_cpu = torch.randn(PAGED_BATCH, PAGED_WIDTH, generator=generator)
    makers: dict[str, Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]] = {
        "adamw": lambda ps: torch.optim.AdamW(ps, lr=1e-4),
        "adamw8bit": lambda ps: bnb_optim.AdamW8bit(ps, lr=1e-4),
        "paged_adamw8bit": lambda ps: bnb_optim.PagedAdamW8bit(ps, lr=1e-4),
    }
    out = PagedMeasured(measured=True)
    try:
        for name, make in makers.items():
            model = nn.Sequential(
                *(nn.Linear(PAGED_WIDTH, PAGED_WIDTH, bias=False) for _ in range(PAGED_LAYERS))
            )
            with torch.no_grad():
                for layer, w in zip(model, weights, strict=True):
                    assert isinstance(layer, nn.Linear)
                    layer.weight.copy_(w)
            model = model.to("cuda")
            x = x_cpu.to("cuda")
            optimizer = make(model.parameters())
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            for _ in range(PAGED_STEPS):
                optimizer.zero_grad(set_to_none=True)
                model(x).square().mean().backward()
                optimizer.step()
            torch.cuda.synchronize()
            out.peak_gb[name] = torch.cuda.max_memory_allocated() / GB
            out.state_gb[name] = _state_bytes(optimizer) / GB
            del model, optimizer, x
            torch.cuda.empty_cache()
    except Exception as exc:  # an old GPU or a missing CUDA library: report, do not fail
        return PagedMeasured(reason=f"{type(exc).__name__}: {exc}")
    return out
