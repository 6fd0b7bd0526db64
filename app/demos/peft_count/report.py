"""The PEFT-count demo's report: the meta-device counts beside their formulas, turned into
named figures, charts, tables and a conclusion (the checks: ``checks``). No torch here."""

from __future__ import annotations

from app.demos.base import DemoResult, Series
from app.demos.peft_count.checks import Measured, checks_of, method_title, model_name, total_formula
from app.demos.peft_count.formulas import GB, activation_bytes, base_total, full_dk, lora_r_d_plus_k
from app.demos.peft_count.params import PeftParams
from app.demos.peft_count.presets import METHODS
from app.demos.text import N_, Cell, Table, Text, Unit, q, t


def figures_of(p: PeftParams, n: Measured) -> dict[str, float]:
    figures: dict[str, float] = {
        "total_params": float(base_total(p.architecture)),
        "lora_formula_r_d_plus_k": float(lora_r_d_plus_k(p)),
        "full_dk": float(full_dk(p)),
        "lora_alpha_over_r": p.lora_alpha / p.lora_r,
    }
    for m in METHODS:
        figures[f"trainable_{m}"] = float(n.measured[m][0])
        figures[f"all_params_{m}"] = float(n.measured[m][1])
        figures[f"trainable_pct_{m}"] = n.pct[m]
        figures[f"adapter_bytes_{m}"] = float(n.adapter_bytes[m])
        figures[f"train_memory_gb_{m}"] = n.memory[m].total / GB
        figures[f"activation_gb_{m}"] = n.memory[m].activations / GB
        figures[f"inference_extra_kv_tokens_{m}"] = float(n.extra[m][0])
        figures[f"inference_extra_kv_entries_{m}"] = float(n.extra[m][1])
        figures[f"inference_extra_layers_{m}"] = float(n.extra[m][2])
    return figures


def _per_method(name: Text, values: list[float], y_label: Text, chart: str, unit: Unit) -> Series:
    """One bar per method, in METHODS order, named on the x axis."""
    return Series(
        name=name,
        x=[float(i) for i in range(len(METHODS))],
        y=values,
        kind="bar",
        x_label=t("method"),
        y_label=y_label,
        log_y=chart in LOG_CHARTS,
        chart=chart,
        categories=[method_title(m) for m in METHODS],
        unit=unit,
    )


LOG_CHARTS = ("trainable", "trainable_pct", "adapter_bytes")
MEMORY_PARTS = {
    "weights": N_("model weights"),
    "gradients": N_("gradients"),
    "optimizer": N_("optimizer states"),
    "activations": N_("activations"),
}


def series_of(n: Measured) -> list[Series]:
    series = [
        # One series per method, so the legend names the bars.
        Series(
            name=method_title(m), x=[float(i)], y=[float(n.measured[m][0])], kind="bar",
            x_label=t("method"), y_label=t("trainable parameters"), log_y=True,
            chart="trainable", categories=[method_title(k) for k in METHODS], unit="params",
        )
        for i, m in enumerate(METHODS)
    ]  # fmt: skip
    pct = [n.pct[m] for m in METHODS]
    series.append(
        _per_method(
            t("trainable share of all parameters"), pct, t("trainable %"), "trainable_pct", "pct"
        )
    )
    mb = [n.adapter_bytes[m] / 10**6 for m in METHODS]
    series.append(_per_method(t("saved adapter file"), mb, t("MB"), "adapter_bytes", "mb"))
    for part, title in MEMORY_PARTS.items():
        values = [getattr(n.memory[m], part) / GB for m in METHODS]
        series.append(_per_method(t(title), values, t("GB ($10^9$ bytes)"), "train_memory", "gb"))
    tokens = [float(n.extra[m][0]) for m in METHODS]
    series.append(
        _per_method(t("extra KV-cache tokens"), tokens, t("tokens"), "inference", "count")
    )
    layers = [float(n.extra[m][2]) for m in METHODS]
    series.append(
        _per_method(t("extra sequential layers"), layers, t("layers"), "inference", "count")
    )
    return series


RECOMPUTATION = {
    "none": N_("none"),
    "selective": N_("selective: attention scores recomputed"),
    "full": N_("full: only each layer's input is kept"),
}


def _memory_lines(p: PeftParams, n: Measured) -> list[Text]:
    """The saved adapter, the training memory and the activations."""
    memory, adapter_bytes = n.memory, n.adapter_bytes
    _, activation_formula = activation_bytes(p, "full")
    return [
        t(
            "Saved adapter at %(dtype)s: parameters × bytes, no metadata; prefix and P-tuning "
            "save the encoder's output (PEFT drops the reparametrisation MLP), e.g. LoRA "
            "%(lora)s, full %(full)s.",
            dtype=p.save_dtype,
            lora=q(adapter_bytes["lora"], "bytes"),
            full=q(adapter_bytes["full"], "bytes"),
        ),  # fmt: skip
        t(
            "Training memory, mixed-precision AdamW: full fine-tuning keeps 16-bit weights and "
            "gradients, an fp32 master copy and two fp32 moments (16 B/parameter); PEFT methods "
            "keep the frozen base in 16 bits (QLoRA: NF4, 4 bits plus absmax, %(dq)s) and the "
            "trainable parameters in fp32 with fp32 gradients and two fp32 moments "
            "(16 B/parameter): full %(full)s, LoRA %(lora)s, QLoRA %(qlora)s.",
            dq=t("with double quantization")
            if p.qlora_double_quant
            else t("without double quantization"),
            full=q(memory["full"].total / GB, "gb"),
            lora=q(memory["lora"].total / GB, "gb"),
            qlora=q(memory["qlora"].total / GB, "gb"),
        ),  # fmt: skip
        t(
            "Activations for $b$ = %(b)s, $s$ = %(s)s, recomputation %(recomputation)s: "
            "%(formula)s bytes = %(gb)s (Korthikanti et al. 2022, §4 eq. 1 and Table 2: 16-bit "
            "activations, no parallelism; it assumes a $4h$ GELU MLP and full multi-head "
            "attention, so for SwiGLU/GQA models it is an estimate; adapters' and LoRA's own "
            "small activations are not added).",
            b=p.batch_size,
            s=p.seq_len,
            recomputation=t(RECOMPUTATION[p.activation_recomputation]),
            formula=activation_formula,
            gb=q(memory["full"].activations / GB, "gb"),
        ),  # fmt: skip
    ]


def conclusion_of(p: PeftParams, n: Measured) -> Text:
    arch, extra = p.architecture, n.extra
    lines = [
        t(
            "%(model)s: %(total)s parameters (meta-device count; %(formula)s).",
            model=model_name(p),
            total=base_total(arch),
            formula=total_formula(p),
        ),  # fmt: skip
        t(
            r"LoRA $r$ = %(r)s on %(targets)s trains $\sum r (d_\mathrm{in} + d_\mathrm{out})$ "
            r"= %(lora)s instead of $\sum d_\mathrm{in} d_\mathrm{out}$ = %(full)s; "
            r"$\alpha$ = %(alpha)s only scales $\Delta W$ by $\alpha / r$ = %(ratio)s.",
            r=p.lora_r,
            targets=", ".join(p.targets),
            lora=lora_r_d_plus_k(p),
            full=full_dk(p),
            alpha=q(p.lora_alpha, "plain"),
            ratio=q(p.lora_alpha / p.lora_r, "plain"),
        ),  # fmt: skip
        *_memory_lines(p, n),
        t(
            "At inference, prompt, prefix and P-tuning add their virtual tokens to every "
            "layer's KV cache (%(prompt)s, %(prefix)s and %(ptuning)s tokens; %(entries)s cache "
            "entries for prefix tuning); Houlsby adapters add %(houlsby)s sequential layers, "
            "Pfeiffer %(pfeiffer)s; merged LoRA and (IA)³ add nothing.",
            prompt=extra["prompt"][0],
            prefix=extra["prefix"][0],
            ptuning=extra["ptuning"][0],
            entries=extra["prefix"][1],
            houlsby=extra["adapter_houlsby"][2],
            pfeiffer=extra["adapter_pfeiffer"][2],
        ),  # fmt: skip
    ]
    return t(
        "%(s1)s %(s2)s %(s3)s %(s4)s %(s5)s %(s6)s",
        **{f"s{i}": line for i, line in enumerate(lines, start=1)},
    )


def headline_of(p: PeftParams, n: Measured) -> Text:
    peft = [m for m in METHODS if m != "full"]
    fewest = min(peft, key=lambda m: n.measured[m][0])
    most = max(peft, key=lambda m: n.measured[m][0])
    return t(
        "LoRA $r$ = %(r)s on %(targets)s trains %(pct)s of %(model)s's parameters: "
        "%(lora)s of %(total)s; its adapter is %(adapter)s and training takes %(lora_gb)s "
        "against %(full_gb)s for full fine-tuning. Among the PEFT methods %(fewest)s trains "
        "the fewest (%(fewest_n)s), %(most)s the most (%(most_n)s).",
        r=p.lora_r, targets=", ".join(p.targets), pct=q(n.pct["lora"], "pct"),
        model=model_name(p), lora=q(n.measured["lora"][0], "params"),
        total=q(base_total(p.architecture), "params"),
        adapter=q(n.adapter_bytes["lora"], "bytes"),
        lora_gb=q(n.memory["lora"].total / GB, "gb"), full_gb=q(n.memory["full"].total / GB, "gb"),
        fewest=method_title(fewest), fewest_n=q(n.measured[fewest][0], "params"),
        most=method_title(most), most_n=q(n.measured[most][0], "params"),
    )  # fmt: skip


def summary_of(n: Measured) -> Table:
    columns: list[Text | str] = [
        t("Method"), t("Trainable parameters"), t("Trainable share"),
        t("Saved adapter"), t("Training memory"),
    ]  # fmt: skip
    rows: list[list[Cell]] = [
        [
            method_title(m),
            q(n.measured[m][0], "params"),
            q(n.pct[m], "pct"),
            q(n.adapter_bytes[m], "bytes"),
            q(n.memory[m].total / GB, "gb"),
        ]  # fmt: skip
        for m in METHODS
    ]
    return Table(columns=columns, rows=rows)


SHARED_UNITS: dict[str, Unit] = {
    "total_params": "params",
    "lora_formula_r_d_plus_k": "params",
    "full_dk": "params",
    "lora_alpha_over_r": "plain",
}
PER_METHOD_UNITS: dict[str, Unit] = {
    "trainable": "params",
    "all_params": "params",
    "trainable_pct": "pct",
    "adapter_bytes": "bytes",
    "train_memory_gb": "gb",
    "activation_gb": "gb",
    "inference_extra_kv_tokens": "count",
    "inference_extra_kv_entries": "count",
    "inference_extra_layers": "count",
}
PER_METHOD_LABELS = {
    "trainable": N_("%(method)s: trainable parameters"),
    "all_params": N_("%(method)s: all parameters"),
    "trainable_pct": N_("%(method)s: trainable share"),
    "adapter_bytes": N_("%(method)s: saved adapter"),
    "train_memory_gb": N_("%(method)s: training memory"),
    "activation_gb": N_("%(method)s: activations"),
    "inference_extra_kv_tokens": N_("%(method)s: extra KV-cache tokens at inference"),
    "inference_extra_kv_entries": N_("%(method)s: extra KV-cache entries at inference"),
    "inference_extra_layers": N_("%(method)s: extra sequential layers at inference"),
}


def figure_units() -> dict[str, Unit]:
    units = dict(SHARED_UNITS)
    for m in METHODS:
        units |= {f"{f}_{m}": unit for f, unit in PER_METHOD_UNITS.items()}
    return units


def figure_labels() -> dict[str, Text]:
    labels = {
        "total_params": t("parameters of the model"),
        "lora_formula_r_d_plus_k": t(r"LoRA: $\sum r (d_\mathrm{in} + d_\mathrm{out})$"),
        "full_dk": t(r"the same matrices in full: $\sum d_\mathrm{in} d_\mathrm{out}$"),
        "lora_alpha_over_r": t(r"LoRA scale $\alpha / r$"),
    }
    for m in METHODS:
        labels |= {
            f"{f}_{m}": t(msg, method=method_title(m)) for f, msg in PER_METHOD_LABELS.items()
        }
    return labels


def result_of(p: PeftParams, measured: dict[str, tuple[int, int]]) -> DemoResult:
    n = Measured.of(p, measured)
    checks = checks_of(p, n)
    return DemoResult(
        figures=figures_of(p, n),
        series=series_of(n),
        checks=checks,
        conclusion=conclusion_of(p, n),
        headline=headline_of(p, n),
        summary=summary_of(n),
        figure_units=figure_units(),
        figure_labels=figure_labels(),
    )


SHARED_FIGURES = ("total_params", "lora_formula_r_d_plus_k", "full_dk", "lora_alpha_over_r")
PER_METHOD_FIGURES = (
    "trainable",
    "all_params",
    "trainable_pct",
    "adapter_bytes",
    "train_memory_gb",
    "activation_gb",
    "inference_extra_kv_tokens",
    "inference_extra_kv_entries",
    "inference_extra_layers",
)


def figure_names(params: PeftParams) -> list[str]:
    """``total_params`` …, then ``<figure>_<method>`` for every method (``trainable_lora``)."""
    return [*SHARED_FIGURES, *(f"{f}_{m}" for m in METHODS for f in PER_METHOD_FIGURES)]
