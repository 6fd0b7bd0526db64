"""The QLoRA-memory demo's parameters. No torch here (none anywhere in this demo)."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field, field_validator

from app.demos.base import DemoParams
from app.demos.peft_count.presets import ArchitectureName
from app.demos.qlora_memory.formulas import AdapterDtype, Optimizer, TargetChoice

# The architectures of peft_count's presets: one Literal shared by both demos.
Preset = ArchitectureName
GpuSize = Literal[24, 40, 48, 80]
GPU_SIZES: tuple[int, ...] = get_args(GpuSize)


class QloraMemoryParams(DemoParams):
    preset: Preset = Field(
        default="llama-2-7b", description="Architecture (published hyperparameters)"
    )
    gpu_gb: GpuSize = Field(
        default=24, description="GPU memory as sold: 24, 40, 48 or 80 GB (GiB of device memory)"
    )
    lora_r: int = Field(default=64, ge=1, le=1024, description="LoRA rank r (QLoRA used 64)")
    lora_targets: TargetChoice = Field(
        default="all_linear",
        description=(
            "Projections LoRA adapts: q_v (PEFT's llama default), attention (q, k, v, o) or "
            "all_linear (also gate, up, down: QLoRA's recipe)"
        ),
    )
    batch_size: int = Field(
        default=1, ge=1, le=256, description="Micro-batch size b (QLoRA: 1, with accumulation)"
    )
    seq_len: int = Field(default=512, ge=1, le=32768, description="Sequence length s (tokens)")
    gradient_checkpointing: bool = Field(
        default=True, description="Keep only each layer's input; recompute the rest"
    )
    flash_attention: bool = Field(
        default=True, description="FlashAttention/SDPA: the s×s attention scores are not stored"
    )
    optimizer: Optimizer = Field(
        default="adamw_fp32",
        description="AdamW with fp32 moments, or bitsandbytes' 8-bit paged AdamW",
    )
    adapter_dtype: AdapterDtype = Field(
        default="bf16", description="dtype of the LoRA weights and their gradients"
    )
    fp32_master_copy: bool = Field(
        default=True,
        description="bf16 adapters: the optimizer updates an fp32 master copy (mixed precision)",
    )
    overhead_gib: float = Field(
        default=1.0,
        ge=0.0,
        le=8.0,
        allow_inf_nan=False,
        description="Fixed overhead: CUDA context, cuBLAS workspace, allocator slack (GiB)",
    )

    # The web form and the CLI send every value as text; Literal[24, ...] wants the int.
    @field_validator("gpu_gb", mode="before")
    @classmethod
    def gpu_from_text(cls, raw: object) -> object:
        if isinstance(raw, str) and raw.strip().isdigit():
            return int(raw.strip())
        return raw
