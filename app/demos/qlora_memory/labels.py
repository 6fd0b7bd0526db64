"""The QLoRA-memory demo's figure labels (English msgids, translated on the page): every
figure ``report.figure_names`` lists, per setup and per base format. No torch here."""

from __future__ import annotations

from app.demos.qlora_memory.formulas import BASE_FORMATS, BASE_TITLES, FORMAT_TITLES, FORMATS
from app.demos.text import N_, Text, t

PER_FORMAT_LABELS = {
    "weights_gb": N_("%(setup)s: weights"),
    "weights_gib": N_("%(setup)s: weights (GiB)"),
    "total_gb": N_("%(setup)s: training total"),
    "total_gib": N_("%(setup)s: training total (GiB)"),
    "fits": N_("%(setup)s: fits the GPU (1 = yes)"),
    "margin_gib": N_("%(setup)s: memory left on the GPU"),
    "min_gpu_gb": N_("%(setup)s: smallest GPU that fits (0: none)"),
}


def _base_labels() -> dict[str, Text]:
    """Per base format: its bits per weight, and fp16's bytes over its bytes."""
    labels: dict[str, Text] = {}
    for f in BASE_FORMATS:
        base = t(BASE_TITLES[f])
        labels[f"linear_bits_per_weight_{f}"] = t(
            "%(base)s base: bits per weight of the quantized linear layers", base=base
        )
        labels[f"model_bits_per_param_{f}"] = t(
            "%(base)s base: bits per parameter over the whole model", base=base
        )
        if f != "fp16":
            labels[f"weights_ratio_fp16_over_{f}"] = t(
                "%(base)s base: fp16 weights / its weights, whole model", base=base
            )
            labels[f"linear_ratio_fp16_over_{f}"] = t(
                "%(base)s base: fp16 bytes / its bytes, quantized linear layers", base=base
            )
    return labels


def figure_labels() -> dict[str, Text]:
    labels = {
        "total_params": t("parameters of the model"),
        "quantized_params": t("weights of the quantized linear layers"),
        "kept_16bit_params": t("parameters kept in 16 bits (embeddings, lm_head, norms, biases)"),
        "lora_params": t("LoRA parameters"),
        "gpu_gb": t("GPU memory"),
        "activations_gb": t("activations + logits"),
        "lora_train_state_gb": t("LoRA's own training state"),
        "dq_saved_gb": t("saved by double quantization"),
        **_base_labels(),
    }
    for f in FORMATS:
        labels |= {
            f"{name}_{f}": t(msg, setup=t(FORMAT_TITLES[f]))
            for name, msg in PER_FORMAT_LABELS.items()
        }
    return labels
