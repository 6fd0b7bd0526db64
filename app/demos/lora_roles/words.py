"""lora_roles' names for people: the arms, the training phases of the live chart, figure
units and labels (English msgids, translated on the page). No torch here."""

from __future__ import annotations

from app.demos.text import N_, Text, Unit, t

# The live chart's series, one per training phase (each arm starts again from the base).
PHASES: dict[str, str] = {
    "pretrain": N_("pre-training (task 1)"),
    "standard": N_("A random, B = 0 (task 2)"),
    "both_random": N_("A and B random (task 2)"),
    "a_zero": N_("A = 0, B random (task 2)"),
    "lora_fa": N_("LoRA-FA, A frozen (task 2)"),
    "sweep": N_("learning-rate sweep (task 2)"),
    "task3": N_("second LoRA (task 3)"),
}


def arm_name(name: str) -> Text:
    """An arm by its initialisation, as charts and the summary table name it."""
    return {
        "standard": t("$A$ random, $B = 0$ (PEFT)"),
        "both_random": t("$A$ and $B$ random"),
        "a_zero": t("$A = 0$, $B$ random"),
        "lora_fa": t("LoRA-FA ($A$ frozen, $B = 0$)"),
    }[name]


def sweep_name(name: str) -> Text:
    """An init of the learning-rate sweep, naming the scale of its random factor: its own
    (Kaiming for fan-in r), or the very numbers the B = 0 init puts in A (B₀ = A₀ᵀ)."""
    return {
        "standard": t("$A$ random, $B = 0$ (PEFT)"),
        "a_zero": t("$A = 0$, $B$ random at its own scale"),
        "a_zero_matched": t("$A = 0$, $B$ random with $A$'s numbers"),
    }[name]


_UNITS: tuple[tuple[str, Unit], ...] = (
    ("trainable_params_", "params"),
    ("best_train_loss_", "loss"),
    ("step0_task1_loss", "loss"),
    ("loss_base_task1", "loss"),
    ("step0_task1_accuracy_drop_", "ratio"),
    ("accuracy_base_task1", "ratio"),
    ("steps_to_target_", "count"),
    ("interference_pct_", "pct"),
    ("a_relative_change", "ratio"),
    ("delta_w_a_change_share", "ratio"),
    ("loss_", "loss"),
    ("step0_loss", "loss"),
    ("final_train_loss_", "loss"),
    ("target_loss", "loss"),
)


def figure_units(names: list[str]) -> dict[str, Unit]:
    """Every figure's unit; norms, cosines, differences and 0/1 flags are plain numbers."""
    return {
        name: next((unit for prefix, unit in _UNITS if name.startswith(prefix)), "plain")
        for name in names
    }


def figure_labels(arms: tuple[str, ...]) -> dict[str, Text]:
    """Labels of the figures a reader looks up."""
    labels: dict[str, Text] = {
        "a_relative_change": t(r"How far $A$ moved: $\|A_T - A_0\|_F / \|A_0\|_F$"),
        "a_cosine": t(r"Cosine between $A_T$ and $A_0$"),
        "b_final_norm": t(r"$\|B\|_F$ after training (it starts at 0)"),
        "delta_w_a_change_share": t(r"Share of $\|\Delta W\|_F$ owed to $A$'s move"),
        "loss_base": t("Held-out loss on task 2 before adapting"),
        "target_loss": t("Target training loss"),
        "interference_pct_task2": t("Task 2's gain lost when the task-3 LoRA is added"),
        "interference_pct_task3": t("Task 3's gain lost when the task-2 LoRA is added"),
        "task_delta_cosine": t(r"Cosine between the two tasks' $\Delta W$"),
        "loss_base_train": t("Training loss on task 2 before adapting"),
        "loss_base_task1": t("Held-out loss of the base model on its own task (task 1)"),
        "accuracy_base_task1": t("Held-out accuracy of the base model on its own task (task 1)"),
        "delta_w_norm": t(
            r"$\|\Delta W\|_F$ after training, %(method)s", method=arm_name("standard")
        ),
        "loss_lora_fa_minus_standard": t(
            "Held-out loss on task 2, LoRA-FA minus %(method)s", method=arm_name("standard")
        ),
        "lora_fa_a_max_abs_change": t("LoRA-FA: largest $|A_T - A_0|$ ($A$ is frozen)"),
    }
    for arm in arms:
        name = arm_name(arm)
        labels[f"loss_{arm}"] = t("Held-out loss on task 2, %(method)s", method=name)
        labels[f"steps_to_target_{arm}"] = t("Steps to the target loss, %(method)s", method=name)
        labels[f"step0_loss_{arm}"] = t("Step-0 training loss, %(method)s", method=name)
        labels[f"trainable_params_{arm}"] = t("Trainable parameters, %(method)s", method=name)
        labels[f"step0_loss_diff_{arm}"] = t(
            "Step 0: training loss's distance from the base's, %(method)s", method=name
        )
        labels[f"step0_grad_a_norm_{arm}"] = t(r"Step 0: $\|\nabla A\|_F$, %(method)s", method=name)
        labels[f"step0_grad_b_norm_{arm}"] = t(r"Step 0: $\|\nabla B\|_F$, %(method)s", method=name)
        labels[f"final_train_loss_{arm}"] = t("Final training loss, %(method)s", method=name)
        labels[f"reached_target_{arm}"] = t(
            "Reached the target loss (1 = yes), %(method)s", method=name
        )
        labels[f"step0_task1_loss_rise_{arm}"] = t(
            "Step 0: loss on the base's own task (task 1) minus the base's, %(method)s",
            method=name,
        )
        labels[f"step0_task1_accuracy_drop_{arm}"] = t(
            "Step 0: accuracy on the base's own task (task 1) lost, %(method)s", method=name
        )
    for task in (2, 3):
        labels[f"loss_base_task{task}"] = t(
            "Held-out loss on task %(task)s before adapting", task=task
        )
        labels[f"loss_alone_task{task}"] = t(
            "Held-out loss on task %(task)s, its own LoRA alone", task=task
        )
        labels[f"loss_sum_task{task}"] = t(
            "Held-out loss on task %(task)s, both tasks' LoRAs added", task=task
        )
    return labels
