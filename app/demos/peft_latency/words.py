"""peft_latency's names for people: the models, figure units and labels (English msgids,
translated on the page). No torch here."""

from __future__ import annotations

from app.demos.text import Text, Unit, t


def model_name(name: str) -> Text:
    """The base model or a variant ("prompt", "lora_merged", ...) by its method's name."""
    return {
        "base": t("base model"),
        "prompt": t("prompt tuning"),
        "prefix": t("prefix tuning"),
        "adapter": t("Houlsby adapters"),
        "lora_unmerged": t("LoRA unmerged"),
        "lora_merged": t("LoRA merged"),
    }[name]


def statistic_name(statistic: str) -> Text:
    """The ``statistic`` param in words."""
    return t("minimum") if statistic == "min" else t("median")


def clock_name(clock: str) -> Text:
    """The clock the timings were read from, in words."""
    return t("wall-clock time") if clock == "wall" else t("CPU time of the timing thread")


def figure_units(names: list[str]) -> dict[str, Unit]:
    """Every figure's unit: times in ms, ratios as factors, counts compact."""
    units: dict[str, Unit] = {}
    for name in names:
        if "latency_ratio_" in name:
            units[name] = "x"
        elif "_ms_seq" in name:
            units[name] = "ms"
        elif name.startswith(("extra_params_", "base_params", "kv_entries_", "extra_kv_entries")):
            units[name] = "count" if "kv" in name else "params"
        elif name.startswith(("extra_kv_tokens_", "extra_query_tokens_", "summary_seq_len")):
            units[name] = "count"
        else:
            units[name] = "plain"
    return units


def figure_labels(variants: tuple[str, ...], decode: bool, lengths: list[int]) -> dict[str, Text]:
    """Every figure's label: the run's setup, the numerical identities, each variant's
    additions over the base model, and each model's time (and ratio) per timed length."""
    labels: dict[str, Text] = {
        "summary_seq_len": t("Longest prompt timed (tokens)"),
        "n_virtual": t("Virtual tokens (prompt tuning) and prefix length (prefix tuning), $n$"),
        "torch_threads": t("Torch intra-op threads while timing"),
        "base_params": t("Parameters of the base model"),
        "kv_entries_base": t(
            "KV-cache entries over all layers (K and V), longest prompt, base model"
        ),
        "merged_max_abs_diff": t("Merged vs unmerged LoRA logits: largest difference"),
        "lora_max_output_change": t("Unmerged LoRA vs base model logits: largest difference"),
        "adapter_init_max_abs_diff": t(
            "Fresh adapters (zero up-projection) vs base model logits: largest difference"
        ),
    }
    for v in variants:
        name = model_name(v)
        labels[f"latency_ratio_{v}"] = t(
            "Prefill time over the base model's, longest prompt, %(method)s", method=name
        )
        labels[f"latency_ratio_{v}_geomean"] = t(
            "Prefill time over the base model's, geometric mean over prompt lengths, %(method)s",
            method=name,
        )
        labels[f"extra_params_{v}"] = t("Extra parameters, %(method)s", method=name)
        labels[f"extra_kv_tokens_{v}"] = t(
            "Extra KV-cache tokens per layer, %(method)s", method=name
        )
        labels[f"extra_kv_entries_{v}"] = t(
            "Extra KV-cache entries over all layers (K and V), longest prompt, %(method)s",
            method=name,
        )
        labels[f"extra_query_tokens_{v}"] = t(
            "Extra query tokens per layer, %(method)s", method=name
        )
        if decode:
            labels[f"decode_latency_ratio_{v}"] = t(
                "Decode time over the base model's, longest prompt, %(method)s", method=name
            )
            labels[f"decode_latency_ratio_{v}_geomean"] = t(
                "Decode time over the base model's, geometric mean over prompt lengths, %(method)s",
                method=name,
            )
    return labels | _length_labels(variants, decode, lengths)


def _length_labels(variants: tuple[str, ...], decode: bool, lengths: list[int]) -> dict[str, Text]:
    """Each model's prefill (and decode) time and each variant's ratio, per timed length."""
    labels: dict[str, Text] = {}
    for T in lengths:
        for v in ("base", *variants):
            name = model_name(v)
            labels[f"{v}_ms_seq{T}"] = t(
                "Prefill time of a %(T)s-token prompt, %(method)s", T=T, method=name
            )
            if decode:
                labels[f"decode_{v}_ms_seq{T}"] = t(
                    "Time to decode one token after a %(T)s-token prompt, %(method)s",
                    T=T, method=name,
                )  # fmt: skip
        for v in variants:
            name = model_name(v)
            labels[f"latency_ratio_{v}_seq{T}"] = t(
                "Prefill time over the base model's, %(T)s-token prompt, %(method)s",
                T=T, method=name,
            )  # fmt: skip
            if decode:
                labels[f"decode_latency_ratio_{v}_seq{T}"] = t(
                    "Decode time over the base model's, %(T)s-token prompt, %(method)s",
                    T=T, method=name,
                )  # fmt: skip
    return labels
