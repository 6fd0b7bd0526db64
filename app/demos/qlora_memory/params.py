"""The QLoRA-memory demo's parameters. No torch here (none anywhere in this demo)."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field, field_validator

from app.demos.base import DemoParams
from app.demos.peft_count.params import ARCHITECTURE_LABELS, ui
from app.demos.peft_count.presets import ArchitectureName
from app.demos.qlora_memory.formulas import AdapterDtype, Optimizer, TargetChoice
from app.demos.text import N_

# The architectures of peft_count's presets: one Literal shared by both demos.
Preset = ArchitectureName
GpuSize = Literal[24, 40, 48, 80]
GPU_SIZES: tuple[int, ...] = get_args(GpuSize)
# The words a choice shows as, on the form and in the conclusion (English msgids).
TARGET_LABELS: dict[str, str] = {
    "q_v": N_("q and v"),
    "attention": N_("attention: q, k, v, o"),
    "all_linear": N_("all linear layers"),
}
OPTIMIZER_LABELS: dict[str, str] = {
    "adamw_fp32": N_("AdamW, fp32 moments"),
    "paged_adamw_8bit": N_("paged 8-bit AdamW (bitsandbytes)"),
}


class QloraMemoryParams(DemoParams):
    preset: Preset = Field(
        default="llama-2-7b",
        description=N_("Architecture (published hyperparameters)"),
        json_schema_extra=ui("model", N_("Architecture"), choice_labels=ARCHITECTURE_LABELS),
    )
    gpu_gb: GpuSize = Field(
        default=24,
        description=N_("GPU memory as sold: 24, 40, 48 or 80 GB (GiB of device memory)"),
        json_schema_extra=ui("model", N_("GPU memory"), N_("GB")),
    )
    lora_r: int = Field(
        default=64,
        ge=1,
        le=1024,
        description=N_("LoRA rank $r$ (QLoRA used 64)"),
        json_schema_extra=ui("method", N_("LoRA rank $r$")),
    )
    lora_targets: TargetChoice = Field(
        default="all_linear",
        description=N_(
            "Projections LoRA adapts: q and v (PEFT's default for LLaMA), the attention's "
            "q, k, v, o, or all linear layers (also the MLP's gate, up, down: QLoRA's recipe)"
        ),
        json_schema_extra=ui("method", N_("LoRA target projections"), choice_labels=TARGET_LABELS),
    )
    batch_size: int = Field(
        default=1,
        ge=1,
        le=256,
        description=N_("Micro-batch size $b$ (QLoRA: 1, with accumulation)"),
        json_schema_extra=ui("training", N_("Batch size $b$"), N_("sequences")),
    )
    seq_len: int = Field(
        default=512,
        ge=1,
        le=32768,
        description=N_("Sequence length $s$ (tokens)"),
        json_schema_extra=ui("training", N_("Sequence length $s$"), N_("tokens")),
    )
    gradient_checkpointing: bool = Field(
        default=True,
        description=N_("Keep only each layer's input; recompute the rest"),
        json_schema_extra=ui("training", N_("Gradient checkpointing")),
    )
    flash_attention: bool = Field(
        default=True,
        description=N_("FlashAttention/SDPA: the $s \\times s$ attention scores are not stored"),
        json_schema_extra=ui("training", N_("FlashAttention")),
    )
    optimizer: Optimizer = Field(
        default="adamw_fp32",
        description=N_("AdamW with fp32 moments, or bitsandbytes' 8-bit paged AdamW"),
        json_schema_extra=ui("training", N_("Optimizer"), choice_labels=OPTIMIZER_LABELS),
    )
    adapter_dtype: AdapterDtype = Field(
        default="bf16",
        description=N_("dtype of the LoRA weights and their gradients"),
        json_schema_extra=ui("advanced", N_("Adapter dtype")),
    )
    fp32_master_copy: bool = Field(
        default=True,
        description=N_(
            "bf16 adapters: the optimizer updates an fp32 master copy (mixed precision)"
        ),
        json_schema_extra=ui("advanced", N_("fp32 master copy"), None, {"adapter_dtype": ["bf16"]}),
    )
    overhead_gib: float = Field(
        default=1.0,
        ge=0.0,
        le=8.0,
        allow_inf_nan=False,
        description=N_("Fixed overhead: CUDA context, cuBLAS workspace, allocator slack (GiB)"),
        json_schema_extra=ui("advanced", N_("Fixed overhead"), N_("GiB")),
    )

    # The web form and the CLI send every value as text; Literal[24, ...] wants the int.
    @field_validator("gpu_gb", mode="before")
    @classmethod
    def gpu_from_text(cls, raw: object) -> object:
        if isinstance(raw, str) and raw.strip().isdigit():
            return int(raw.strip())
        return raw
