"""The QLoRA demo's headline, summary table, conclusion and the unit and label of each
figure: what a reader sees first (issue 16). No torch here."""

from __future__ import annotations

from app.demos.qlora.params import QLoRAParams
from app.demos.text import Cell, Table, Text, Unit, q, t

# The optimizer comparison's names (a GPU run only; each on the same small test model).
_OPTIMIZER_NAMES: dict[str, Text | str] = {
    "adamw": "AdamW",
    "adamw8bit": t("8-bit AdamW"),
    "paged_adamw8bit": t("paged 8-bit AdamW"),
}

FIGURE_LABELS: dict[str, Text] = {
    "loss_qlora_final": t("Test loss, QLoRA (LoRA on the NF4 base)"),
    "loss_lora_fp_final": t("Test loss, LoRA on the fp32 base"),
    "loss_gap_relative": t("QLoRA's test loss above LoRA's on the fp32 base"),
    "base_bits_per_param_nf4": t("Bits per base weight in NF4 (block constants included)"),
    "base_compression_vs_fp16": t("Base weights: fp16 bytes / NF4 bytes"),
    "full_precision_base_tensors": t("Full-precision copies of base weights in QLoRA"),
    "dequant_calls_per_forward": t("Dequantizations per forward pass"),
    "loss_gap": t("QLoRA's test loss minus LoRA's on the fp32 base"),
    "accuracy_qlora_final": t("Test accuracy, QLoRA (LoRA on the NF4 base)"),
    "accuracy_lora_fp_final": t("Test accuracy, LoRA on the fp32 base"),
    "loss_before_adaptation": t("Test loss on task 2 before adaptation (fp32 base)"),
    "train_loss_qlora_first": t("QLoRA's training loss at the first step"),
    "train_loss_qlora_last": t("QLoRA's training loss at the last step"),
    "loss_task1_fp32_base": t("Test loss on task 1, fp32 base"),
    "loss_task1_nf4_base": t("Test loss on task 1, NF4 base (before adaptation)"),
    "base_weight_params": t("Weights of the base's linear layers"),
    "base_bytes_nf4": t("Base weights in NF4: bytes stored (block constants included)"),
    "base_bytes_fp16": t("Base weights in fp16: bytes"),
    "base_bytes_fp32": t("Base weights in fp32: bytes"),
    "adapter_params": t("Adapter parameters (LoRA's A and B)"),
    "adapter_bits": t("Bits per adapter parameter"),
    "compute_bits": t("Bits of the dtype the 4-bit layers compute in"),
    "four_bit_layers": t("4-bit (NF4) layers"),
    "full_precision_base_tensors_lora_fp": t(
        "Full-precision copies of base weights in LoRA on the fp32 base"
    ),
    "base_tensors_with_grad": t("Base tensors holding a gradient in QLoRA"),
    "base_tensors_requiring_grad": t("Base tensors requiring a gradient in QLoRA"),
    "adapter_grad_norm": t("Norm of QLoRA's adapter gradients at the last step"),
    "dequant_calls_per_step": t("Dequantizations per training step"),
    "paged_optimizer_measured": t("Paged 8-bit AdamW measured (1 = yes; needs a CUDA GPU)"),
    **{
        f"peak_memory_gb_{key}": t("Optimizer test: peak GPU memory, %(optimizer)s", optimizer=name)
        for key, name in _OPTIMIZER_NAMES.items()
    },
    **{
        f"optimizer_state_gb_{key}": t(
            "Optimizer test: optimizer state, %(optimizer)s", optimizer=name
        )
        for key, name in _OPTIMIZER_NAMES.items()
    },
}

_UNIT_BY_PREFIX: tuple[tuple[str, Unit], ...] = (
    ("loss_gap_relative", "ratio"),
    ("loss_", "loss"),
    ("train_loss", "loss"),
    ("accuracy_", "ratio"),
    ("base_bytes", "bytes"),
    ("base_bits", "bits"),
    ("base_compression", "x"),
    ("base_weight_params", "params"),
    ("adapter_params", "params"),
    ("peak_memory_gb", "gb"),
    ("optimizer_state_gb", "gb"),
    ("adapter_grad_norm", "plain"),
)


def figure_units(figures: dict[str, float]) -> dict[str, Unit]:
    """Every figure's unit: counts unless a prefix says otherwise."""
    return {
        name: next((u for prefix, u in _UNIT_BY_PREFIX if name.startswith(prefix)), "count")
        for name in figures
    }


def headline_of(p: QLoRAParams, f: dict[str, float]) -> Text:
    return t(
        "LoRA on the frozen NF4 base reaches a test loss of %(qlora)s against %(lora)s on the "
        "fp32 base (%(gap)s higher), while the base takes %(bits)s per weight, %(x)s fewer bytes "
        "than fp16, with no full-precision copy.",
        qlora=q(f["loss_qlora_final"], "loss"),
        lora=q(f["loss_lora_fp_final"], "loss"),
        gap=q(f["loss_gap_relative"], "ratio"),
        bits=q(f["base_bits_per_param_nf4"], "bits"),
        x=q(f["base_compression_vs_fp16"], "x"),
    )


def summary_of(f: dict[str, float]) -> Table:
    """The two arms: how the base is stored, its bytes, the test loss and accuracy."""
    rows: list[list[Cell]] = [
        [
            t("QLoRA: LoRA on the NF4 base"),
            q(f["base_bits_per_param_nf4"], "bits"),
            q(f["base_bytes_nf4"], "bytes"),
            q(f["loss_qlora_final"], "loss"),
            q(f["accuracy_qlora_final"], "ratio"),
        ],
        [
            t("LoRA on the fp32 base"),
            q(32, "bits"),
            q(f["base_bytes_fp32"], "bytes"),
            q(f["loss_lora_fp_final"], "loss"),
            q(f["accuracy_lora_fp_final"], "ratio"),
        ],
        [t("Before adaptation (fp32 base)"), q(32, "bits"), q(f["base_bytes_fp32"], "bytes"),
         q(f["loss_before_adaptation"], "loss"), "–"],
    ]  # fmt: skip
    return Table(
        columns=[
            t("Run"),
            t("Bits per base weight"),
            t("Base weights"),
            t("Test loss"),
            t("Test accuracy"),
        ],
        rows=rows,
    )


def conclusion_of(p: QLoRAParams, f: dict[str, float], paged: bool, reason: str) -> Text:
    return t(
        "LoRA (r = %(r)s, %(adapter)s-bit adapters) on the frozen NF4 base (%(bits)s per weight, "
        "%(x)s smaller than fp16, dequantized to %(compute)s-bit for each matmul) reached a test "
        "loss of %(qlora)s, against %(lora)s on the fp32 base; quantizing the base alone moved "
        "its task-1 loss from %(t32)s to %(tnf4)s. The QLoRA model holds %(copies)s "
        "full-precision copies of base weights and its base got %(grads)s gradients. %(paged)s",
        r=str(p.r),
        adapter=f"{f['adapter_bits']:.0f}",
        bits=q(f["base_bits_per_param_nf4"], "bits"),
        x=q(f["base_compression_vs_fp16"], "x"),
        compute=f"{f['compute_bits']:.0f}",
        qlora=q(f["loss_qlora_final"], "loss"),
        lora=q(f["loss_lora_fp_final"], "loss"),
        t32=q(f["loss_task1_fp32_base"], "loss"),
        tnf4=q(f["loss_task1_nf4_base"], "loss"),
        copies=q(f["full_precision_base_tensors"], "count"),
        grads=q(f["base_tensors_with_grad"], "count"),
        paged=_paged_words(f, paged, reason),
    )


def _paged_words(f: dict[str, float], paged: bool, reason: str) -> Text:
    if not paged:
        # reason: a msgid (N_) on the CPU, else an error message shown as it is
        return t("Paged 8-bit AdamW was not measured: %(reason)s.", reason=Text(msg=reason))
    return t(
        "Peak GPU memory: AdamW %(a)s, 8-bit AdamW %(b)s, paged 8-bit AdamW %(c)s (its state "
        "lives in unified memory, outside PyTorch's allocator).",
        a=q(f["peak_memory_gb_adamw"], "gb"),
        b=q(f["peak_memory_gb_adamw8bit"], "gb"),
        c=q(f["peak_memory_gb_paged_adamw8bit"], "gb"),
    )
