"""What the demo tests share."""

from __future__ import annotations

from typing import Any

from app.demos.base import Demo, RunContext


class Recorder:
    """A ProgressReporter that keeps every report."""

    def __init__(self) -> None:
        self.reports: list[tuple[int, int, dict[str, float]]] = []

    def __call__(self, step: int, total: int, metrics: dict[str, float]) -> None:
        self.reports.append((step, total, metrics))


# Small parameters per demo: a real run in a second or two. A demo added to the
# catalogue without an entry here fails test_every_demo_is_covered.
SMALL: dict[str, list[dict[str, Any]]] = {
    "rank": [{"m": 8, "n": 6, "r": 2}],
    "peft_params": [{}, {"preset": "qwen2.5-3b", "lora_r": 16}],
    "lora": [{"hidden": 8, "pretrain_steps": 10, "steps": 10}, {"hidden": 4, "steps": 10}],
    "lora_vs_full": [
        {"hidden": 8, "pretrain_steps": 10, "steps": 10},
        {"hidden": 4, "pretrain_steps": 10, "steps": 10, "shift_rank": 2, "domain_shift": 0.0},
    ],
    "lora_roles": [{"hidden": 8, "pretrain_steps": 10, "steps": 10}],
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
    "paged_optimizer": [{"width": 256, "layers": 1, "cap_gb": 0.5, "steps": 2}],
    "mla_cost": [
        {"train_steps": 20, "ft_steps": 3, "conv_d_model": 8, "conv_heads": 2, "conv_head_dim": 2},
        {
            "preset": "custom",
            "custom_q_latent": 0,
            "train_steps": 0,
            "ft_steps": 2,
            "conv_d_model": 8,
        },
    ],
    "spike_remedies": [
        {"steps": 20, "corrupt_step": 10, "rewind_steps": 2},
        {"steps": 20, "corrupt_step": 0, "compare_init": False, "compare_rewind": False},
    ],
    "mla_kv_cache": [
        {"layer_seq_len": 4},
        {"preset": "custom", "custom_d_rope": 0, "layer_seq_len": 4},
    ],
}


# What loss_spikes trains on in the tests: a made-up bank's answers, handed in as the
# worker hands in the real ones (RunContext.inputs).
ANSWERS = (
    "LoRA 把权重更新写成低秩矩阵 B A 的乘积，只训练 A 和 B。"
    "The update ΔW = B A has rank at most r, so few parameters train. "
    "梯度裁剪把梯度的全局范数限制在阈值以内，warmup 让学习率从小慢慢升高。"
) * 20


def small_context(demo: Demo, device: str = "cpu") -> RunContext:
    """A RunContext for a test run: no progress kept, the made-up answers as inputs."""
    inputs: dict[str, str] = dict.fromkeys(demo.inputs, ANSWERS)
    return RunContext(device=device, report=lambda step, total, m: None, inputs=inputs)
