"""The LoRA demo's names for people: methods, training phases, figure units and labels
(English msgids, translated on the page). No torch here."""

from __future__ import annotations

from app.demos.text import N_, Text, Unit, t

# The live chart's series, one per training phase: each phase reports its loss under its
# own name, so the switch from pre-training (task 1) to adapting (task 2) is not a spike.
PHASES: dict[str, str] = {
    "pretrain": N_("pre-training (task 1)"),
    "full": N_("full fine-tuning (task 2)"),
    "lora_r1": N_("LoRA r = 1 (task 2)"),
    "lora_r2": N_("LoRA r = 2 (task 2)"),
    "lora_r4": N_("LoRA r = 4 (task 2)"),
    "lora_r8": N_("LoRA r = 8 (task 2)"),
    "lora_r16": N_("LoRA r = 16 (task 2)"),
}


def method_name(key: str) -> Text:
    """ "full" -> full fine-tuning; "lora_r<k>" -> LoRA r = k."""
    if key == "full":
        return t("full fine-tuning")
    return t("LoRA r = %(r)s", r=int(key.removeprefix("lora_r")))


# Figure name prefixes (and exact names) -> how the page formats them.
_UNITS: tuple[tuple[str, Unit], ...] = (
    ("trainable_params_", "params"),
    ("peak_memory_bytes_", "bytes"),
    ("accuracy_", "ratio"),
    ("energy_top_", "ratio"),
    ("loss_", "loss"),
    ("latency_ratio_", "x"),
    ("latency_", "ms"),
    ("pretrain_accuracy", "ratio"),
    ("task_label_agreement", "ratio"),
)


def figure_units(names: list[str]) -> dict[str, Unit]:
    """Every figure's unit; the step-0 norms, differences and 0/1 flags are plain numbers."""
    return {
        name: next((unit for prefix, unit in _UNITS if name.startswith(prefix)), "plain")
        for name in names
    }


def figure_labels(keys: list[str], ranks: list[int]) -> dict[str, Text]:
    """Labels of the figures a reader looks up: per method, and the key scalars."""
    labels: dict[str, Text] = {
        "loss_base": t("Held-out loss on task 2 before adapting"),
        "accuracy_base": t("Accuracy on task 2 before adapting"),
        "pretrain_accuracy": t("Accuracy on task 1 after pre-training"),
        "task_label_agreement": t("Inputs the two teachers label alike"),
        "merge_max_abs_diff": t("Merged vs unmerged outputs: largest difference"),
        "latency_ratio_merged_vs_base": t("Forward time, merged LoRA / base model"),
        "latency_ratio_unmerged_vs_base": t("Forward time, unmerged LoRA / base model"),
        "step0_max_output_diff": t("Step 0: largest output change from the base model"),
        "step0_grad_a_norm": t(r"Step 0: largest $\|\nabla A\|$"),
        "step0_grad_b_norm": t(r"Step 0: smallest $\|\nabla B\|$"),
        "grad_a_zero_at_step0": t(r"Step 0: $\nabla A$ is zero at every rank (1 = yes)"),
        "grad_b_nonzero_at_step0": t(r"Step 0: $\nabla B$ is nonzero at every rank (1 = yes)"),
        "final_delta_w_norm": t(r"LoRA's $\|\Delta W\|_F$ after training, largest over ranks"),
        "lora_params_formula_ok": t(
            "Trainable parameters equal $r(d_{in} + d_{out})$ at every rank (1 = yes)"
        ),
        "latency_base_ms": t("Median forward time, base model"),
        "latency_unmerged_ms": t("Median forward time, unmerged LoRA"),
        "latency_merged_ms": t("Median forward time, merged LoRA"),
        "memory_is_cuda_peak": t(
            "Training memory is the CUDA peak (1) or, on the CPU, the state's bytes (0)"
        ),
    }
    if ranks:
        labels["unmerge_max_abs_diff"] = t(
            "Largest $|W - W_0|$ after merging then unmerging, LoRA r = %(r)s", r=max(ranks)
        )
    for key in keys:
        method = method_name(key)
        labels[f"trainable_params_{key}"] = t("Trainable parameters, %(method)s", method=method)
        labels[f"loss_{key}"] = t("Held-out loss on task 2, %(method)s", method=method)
        labels[f"accuracy_{key}"] = t("Accuracy on task 2, %(method)s", method=method)
        labels[f"peak_memory_bytes_{key}"] = t("Training memory, %(method)s", method=method)
    for k in ranks:
        labels[f"energy_top_{k}"] = t(
            r"Share of full fine-tuning's $\|\Delta W\|_F^2$ in its top %(k)s singular "
            "directions",
            k=k,
        )
    return labels
