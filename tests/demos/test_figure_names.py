"""Every demo declares the figures it returns (claims' rules are validated against the
declaration at import), and the declaration matches what a real run returns."""

from __future__ import annotations

from typing import Any

import pytest

from app.demos import registry
from app.demos.base import RunContext, validate_params

# Small parameters per demo: a real run in a second or two. A demo added to the
# catalogue without an entry here fails test_every_demo_is_covered.
SMALL: dict[str, list[dict[str, Any]]] = {
    "rank": [{"m": 8, "n": 6, "r": 2}],
    "peft_params": [{}, {"preset": "qwen2.5-3b", "lora_r": 16}],
    "lora": [{"hidden": 8, "pretrain_steps": 10, "steps": 10}, {"hidden": 4, "steps": 10}],
    "qlora_memory": [{}, {"preset": "llama-65b", "gpu_gb": 48}, {"preset": "gpt3-175b"}],
    "nf4": [{"hidden": 16, "steps": 10}],
    "qlora": [{"hidden": 16, "pretrain_steps": 10, "steps": 10}],
    "loss_spikes": [
        {"steps": 20, "corrupt_step": 10},
        {"steps": 20, "corrupt_step": 0, "precision": "fp16_scaler", "clip": 1.0},
    ],
    "peft_latency": [
        {
            "d_model": 32,
            "n_layers": 2,
            "n_heads": 2,
            "max_seq_len": 32,
            "num_lengths": 2,
            "n_virtual": 5,
            "bottleneck": 4,
            "lora_rank": 2,
            "repeats": 3,
        }
    ],
    "mla_kv_cache": [
        {"layer_seq_len": 4},
        {"preset": "custom", "custom_d_rope": 0, "layer_seq_len": 4},
    ],
}


def test_every_demo_is_covered() -> None:
    assert set(registry()) == set(SMALL)
    for demo in registry().values():
        assert demo.figure_names is not None, f"{demo.name} does not declare its figures"


@pytest.mark.parametrize(
    ("name", "raw"), [(name, raw) for name, cases in SMALL.items() for raw in cases]
)
def test_declared_figures_are_the_returned_ones(name: str, raw: dict[str, Any]) -> None:
    demo = registry()[name]
    assert demo.figure_names is not None
    params = validate_params(demo, raw)
    result = demo.run(params, RunContext(device="cpu", report=lambda step, total, m: None))
    declared = list(demo.figure_names(params))
    assert len(declared) == len(set(declared)), "a figure is declared twice"
    assert set(declared) == set(result.figures)
