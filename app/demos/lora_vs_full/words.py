"""lora_vs_full's names for people: methods, figure units and labels (English msgids,
translated on the page). No torch here."""

from __future__ import annotations

from app.demos.text import Text, Unit, t


def method_name(key: str) -> Text:
    """ "full" -> full fine-tuning of fc2; "lora_r<k>" -> LoRA r = k."""
    if key == "full":
        return t("full fine-tuning (fc2)")
    return t("LoRA r = %(r)s", r=int(key.removeprefix("lora_r")))


# Figure name prefixes (and exact names) -> how the page formats them; the first match wins.
_UNITS: tuple[tuple[str, Unit], ...] = (
    ("trainable_params_", "params"),
    ("accuracy_", "ratio"),
    ("task1_accuracy_base", "ratio"),
    ("relative_gap_", "ratio"),
    ("loss_", "loss"),
    ("task1_loss_", "loss"),
    ("forgetting_", "loss"),
    ("gap_full_minus_", "loss"),
    ("adapter_removed_task1_loss_diff", "loss"),
)


def figure_units(names: list[str]) -> dict[str, Unit]:
    """Every figure's unit; learning rates, ranks and weight differences are plain numbers."""
    return {
        name: next((unit for prefix, unit in _UNITS if name.startswith(prefix)), "plain")
        for name in names
    }


def figure_labels(keys: list[str], ranks: list[int]) -> dict[str, Text]:
    """Labels of the figures a reader looks up: per method and per rank, and the base's."""
    labels: dict[str, Text] = {
        "loss_base": t("Held-out loss on task 2 before adapting"),
        "accuracy_base": t("Accuracy on task 2 before adapting"),
        "task1_loss_base": t("Held-out loss on task 1 before adapting"),
        "task1_accuracy_base": t("Accuracy on task 1 before adapting"),
        "unmerge_max_abs_diff": t("Largest $|W - W_0|$ after merging then unmerging, worst rank"),
        "adapter_removed_max_abs_diff": t(
            "Largest $|W - W_0|$ of the frozen weight after training, worst rank"
        ),
        "adapter_removed_task1_loss_diff": t(
            "Task-1 loss with the adapter removed: largest difference from the base's"
        ),
        "best_lora_rank": t("LoRA rank with the lowest task-2 loss"),
        "shift_rank": t("Rank of the task change"),
    }
    for key in keys:
        method = method_name(key)
        labels[f"loss_{key}"] = t("Held-out loss on task 2, %(method)s", method=method)
        labels[f"accuracy_{key}"] = t("Accuracy on task 2, %(method)s", method=method)
        labels[f"lr_{key}"] = t("Chosen learning rate, %(method)s", method=method)
        labels[f"trainable_params_{key}"] = t("Trainable parameters, %(method)s", method=method)
        labels[f"task1_loss_after_{key}"] = t(
            "Task-1 loss after adapting, %(method)s", method=method
        )
        labels[f"forgetting_{key}"] = t("Forgetting of task 1, %(method)s", method=method)
    for r in ranks:
        labels[f"gap_full_minus_lora_r{r}"] = t(
            "LoRA r = %(r)s: full fine-tuning's task-2 loss minus LoRA's", r=r
        )
        labels[f"relative_gap_lora_r{r}"] = t(
            "LoRA r = %(r)s: task-2 loss relative to full fine-tuning's", r=r
        )
    return labels
