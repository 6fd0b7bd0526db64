"""Run a demo in this process, outside the queue: ``interview-lab demo run`` uses it.
The same device choice, seeding and result metadata as ``execute``, without a run row."""

from __future__ import annotations

import time
from typing import Any

from app.content.answers import demo_inputs
from app.demos.base import Demo, DemoParams, ProgressReporter, RunContext
from app.worker.execute import json_safe, pick_device


def run_inline(
    demo: Demo, params: DemoParams, *, device: str, report: ProgressReporter
) -> dict[str, Any]:
    """The demo's result as JSON data with ``meta`` (device, device name, torch version,
    wall time). ``device`` is "cpu", "gpu" (cuda when there is one) or "auto"."""
    import torch

    picked, device_name, torch_version = pick_device(demo.uses_gpu, device)
    torch.manual_seed(params.seed)
    started = time.perf_counter()
    ctx = RunContext(device=picked, report=report, inputs=demo_inputs(demo.inputs))
    result = demo.run(params, ctx)
    data: dict[str, Any] = json_safe(result.model_dump(mode="json"))
    data["meta"] = {
        "device": picked,
        "device_name": device_name,
        "torch_version": torch_version,
        "wall_seconds": round(time.perf_counter() - started, 3),
    }
    return data
