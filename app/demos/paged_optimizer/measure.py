"""The torch side of the paged-optimizer demo (imported inside ``demo.run``).

Each optimizer ("arm") trains the same stack of square linear layers, from the same
seeded weights and batch, while ``torch.cuda.set_per_process_memory_fraction`` lets
PyTorch's caching allocator hold at most ``cap_gb`` above what the process held at the
arm's start. AdamW's and 8-bit AdamW's states are ordinary PyTorch tensors, inside the
cap; bitsandbytes' paged optimizers allocate every state of a parameter with at least
1e5 elements with ``cudaMallocManaged`` (CUDA unified memory), outside PyTorch's
allocator and so outside the cap. An arm that raises ``torch.cuda.OutOfMemoryError``
is recorded as "OOM at step k".

Safety: the managed memory the paged arms will ask for is computed first and an arm is
not run unless it is under half of the card's free memory (never over-subscribe managed
memory: it can hang the GPU). The cap is lifted (fraction restored) whatever happens.
bitsandbytes never frees paged tensors (its page manager keeps them for the process's
life), so each paged arm leaves its state's managed memory allocated until the process
exits; the figures are taken relative to each arm's start.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from app.demos.base import RunContext
from app.demos.paged_optimizer.params import GB, PagedOptimizerParams
from app.demos.paged_optimizer.report import ArmOutcome, Measured
from app.demos.text import q, t

BATCH = 64
LR = 1e-4
PAGED_MIN_NUMEL = 100_000  # bitsandbytes pages a state only for parameters this large
MANAGED_SHARE_OF_FREE = 0.5  # a paged arm runs only if its managed memory is under this

Maker = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]


def optimizer_makers(bnb_optim: Any) -> dict[str, Maker]:
    return {
        "adamw": lambda ps: torch.optim.AdamW(ps, lr=LR),
        "adamw8bit": lambda ps: bnb_optim.AdamW8bit(ps, lr=LR),
        "paged_adamw8bit": lambda ps: bnb_optim.PagedAdamW8bit(ps, lr=LR),
        "paged_adamw32bit": lambda ps: bnb_optim.PagedAdamW32bit(ps, lr=LR),
    }


def managed_bytes(arm: str, p: PagedOptimizerParams) -> int:
    """The unified memory a paged arm asks for: two states per parameter (all layers are
    width² ≥ 1e5 elements when width ≥ 317), 1 byte each in 8 bit, 4 in 32 bit."""
    if not arm.startswith("paged_") or p.width * p.width < PAGED_MIN_NUMEL:
        return 0
    per_element = 1 if arm == "paged_adamw8bit" else 4
    return 2 * per_element * p.layers * p.width * p.width


def state_bytes(optimizer: torch.optim.Optimizer) -> tuple[int, int]:
    """(all state bytes, of which paged): the tensors in ``optimizer.state`` (bitsandbytes'
    shared quantization maps counted once per parameter, as they are a few hundred bytes)."""
    total = paged = 0
    for state in optimizer.state.values():
        for tensor in state.values():
            if isinstance(tensor, torch.Tensor):
                size = tensor.numel() * tensor.element_size()
                total += size
                paged += size if getattr(tensor, "is_paged", False) else 0
    return total, paged


def device_used() -> int:
    free, total = torch.cuda.mem_get_info()
    return total - free


def release() -> None:
    """Drop the last arm's model and state (reference cycles too) and its cached blocks."""
    gc.collect()
    torch.cuda.synchronize()
    torch.cuda.empty_cache()


def run_arm(
    arm: str, make: Maker, p: PagedOptimizerParams, ctx: RunContext, done: list[int], total: int
) -> ArmOutcome:
    """One optimizer under the cap. The caller lifts the cap and releases memory after."""
    out = ArmOutcome(name=arm)
    release()
    used_start = device_used()
    allocated_start = torch.cuda.memory_allocated()
    reserved_start = torch.cuda.memory_reserved()
    _, device_total = torch.cuda.mem_get_info()
    fraction = min(1.0, (reserved_start + p.cap_gb * GB) / device_total)
    torch.cuda.set_per_process_memory_fraction(fraction)
    torch.cuda.reset_peak_memory_stats()
    step = 0
    optimizer: torch.optim.Optimizer | None = None
    try:
        # Same weights and batch for every arm: a CUDA generator seeded per arm (the
        # layers are built on the meta device, so no default init draws from the global RNG).
        gen = torch.Generator(device="cuda").manual_seed(p.seed)
        model = nn.Sequential(
            *(nn.Linear(p.width, p.width, bias=False, device="meta") for _ in range(p.layers))
        ).to_empty(device="cuda")
        with torch.no_grad():
            for param in model.parameters():
                param.normal_(0.0, 1.0 / math.sqrt(p.width), generator=gen)
        x = torch.randn(BATCH, p.width, device="cuda", generator=gen)
        optimizer = make(model.parameters())
        for step in range(1, p.steps + 1):
            torch.cuda.synchronize()
            start = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            loss = model(x).square().mean()
            loss.backward()
            optimizer.step()
            torch.cuda.synchronize()
            out.step_times_s.append(time.perf_counter() - start)
            out.steps_done = step
            out.device_used_bytes = max(out.device_used_bytes, device_used() - used_start)
            done[0] += 1
            ctx.progress(done[0], total, arm_step=step, loss=loss.item())
        out.completed = True
    except torch.cuda.OutOfMemoryError as exc:
        out.oom_step = max(step, 1)
        out.note = str(exc).splitlines()[0][:300]
        done[0] += p.steps - out.steps_done
    finally:
        torch.cuda.synchronize()
        out.device_used_bytes = max(out.device_used_bytes, device_used() - used_start)
        out.torch_peak_bytes = torch.cuda.max_memory_allocated() - allocated_start
        out.torch_reserved_bytes = torch.cuda.max_memory_reserved() - reserved_start
        if optimizer is not None:
            out.state_bytes, out.paged_state_bytes = state_bytes(optimizer)
    return out


def measure(p: PagedOptimizerParams, ctx: RunContext) -> Measured:
    if ctx.device != "cuda":
        return Measured(
            reason=t(
                "needs a CUDA GPU with bitsandbytes (this run is on the %(device)s)",
                device=ctx.device,
            )
        )
    try:
        import bitsandbytes.optim

        bnb_optim: Any = bitsandbytes.optim  # its optimizers are untyped
    except Exception as exc:
        return Measured(
            reason=t(
                "needs a CUDA GPU with bitsandbytes: bitsandbytes does not import (%(error)s)",
                error=str(exc),
            )
        )
    makers = optimizer_makers(bnb_optim)
    m = Measured(measured=True, device_total_bytes=torch.cuda.mem_get_info()[1])
    total = len(p.arm_names) * p.steps
    done = [0]
    # torch < 2.9 has no getter; the allocator's fraction is then the default, 1.
    previous = getattr(torch.cuda, "get_per_process_memory_fraction", lambda: 1.0)()
    try:
        for arm in p.arm_names:
            release()
            free, _ = torch.cuda.mem_get_info()
            managed = managed_bytes(arm, p)
            if managed > MANAGED_SHARE_OF_FREE * free:
                m.arms[arm] = ArmOutcome(
                    name=arm,
                    note=t(
                        "not run: it would ask for %(managed)s of managed memory with %(free)s "
                        "free on the card",
                        managed=q(managed / GB, "gb"),
                        free=q(free / GB, "gb"),
                    ),
                )
                done[0] += p.steps
                continue
            try:
                m.arms[arm] = run_arm(arm, makers[arm], p, ctx, done, total)
            finally:
                torch.cuda.set_per_process_memory_fraction(previous)
                release()
    except Exception as exc:  # an old GPU or a missing CUDA library: report, do not fail
        return Measured(
            reason=t(
                "needs a CUDA GPU with bitsandbytes; the run failed: %(error)s",
                error=f"{type(exc).__name__}: {exc}",
            )
        )
    return m
