"""Tests that hold across the whole catalogue, iterating the registry: a demo's code version
covers every module its run loads; every parameter set inside the declared bounds either
runs or is refused before the run, naming the field; and no demo creates a tensor or a
generator off the run's device."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.demos import registry
from app.demos.base import Demo, package_root, params_schema, validate_params
from app.errors import Unprocessable
from tests.demos.support import ANSWERS, SMALL, small_context

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMOS_ROOT = REPO_ROOT / "app" / "demos"

# The framework every demo runs on, not part of any demo's code version: a change here
# changes no stored result's meaning (registration, validation, the result model).
# app.i18n comes with app.errors (its messages are translated where they are shown).
FRAMEWORK = {"app", "app.demos", "app.demos.base", "app.demos.text", "app.errors", "app.i18n"}

# Imports the demo's package without running app/demos/__init__.py (which would load the
# whole catalogue), runs it on the small params, and prints the app.* modules loaded.
RUN_ONE = textwrap.dedent(
    """
    import importlib, json, sys, types
    from pathlib import Path
    import app
    catalogue = types.ModuleType("app.demos")
    catalogue.__path__ = [str(Path(app.__file__).parent / "demos")]
    sys.modules["app.demos"] = catalogue
    package, raw, inputs = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    demo = importlib.import_module(package).DEMO
    from app.demos.base import RunContext, validate_params
    params = validate_params(demo, raw)
    demo.run(params, RunContext(device="cpu", report=lambda *a: None, inputs=inputs))
    print(json.dumps(sorted(m for m in sys.modules if m == "app" or m.startswith("app."))))
    """
)


def covered(demo: Demo, module: str) -> bool:
    packages = (demo.package, *demo.uses)
    return module in FRAMEWORK or any(
        module == package or module.startswith(package + ".") for package in packages
    )


@pytest.mark.parametrize("name", list(registry()))
def test_a_run_loads_only_modules_its_code_version_covers(name: str) -> None:
    demo = registry()[name]
    inputs = dict.fromkeys(demo.inputs, ANSWERS)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            RUN_ONE,
            demo.package,
            json.dumps(SMALL[name][0]),
            json.dumps(inputs),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    assert demo.package in loaded
    outside = [module for module in loaded if not covered(demo, module)]
    assert not outside, f"{name} ran {outside}, which its code_version does not cover"


# ---- every parameter set inside the bounds runs or is refused --------------------------

# Upper bounds for the draws of the fields that set a run's cost (sizes, steps, rounds),
# so an example runs in about a second; every other field is drawn over its whole range.
CHEAP: dict[str, dict[str, int]] = {
    "rank": {"m": 12, "n": 12, "r": 14},
    "peft_params": {},
    "lora": {"hidden": 12, "pretrain_steps": 12, "steps": 12, "shift_rank": 14},
    "lora_vs_full": {"hidden": 12, "pretrain_steps": 12, "steps": 12, "shift_rank": 14},
    "lora_roles": {"hidden": 12, "pretrain_steps": 12, "steps": 12, "r": 14, "shift_rank": 14},
    "nf4": {"hidden": 20, "steps": 12},
    "qlora": {"hidden": 20, "pretrain_steps": 12, "steps": 12, "r": 24},
    "qlora_memory": {},
    "loss_spikes": {
        "steps": 30,
        "warmup_steps": 32,
        "corrupt_step": 32,
        "corrupt_batches": 6,
        "median_window": 12,
    },
    "peft_latency": {
        "d_model": 36,
        "n_layers": 2,
        "n_heads": 6,
        "max_seq_len": 40,
        "n_virtual": 6,
        "bottleneck": 40,
        "lora_rank": 40,
        "repeats": 3,
    },
    "paged_optimizer": {"width": 512, "layers": 2, "steps": 3},
    "mla_cost": {
        "conv_d_model": 12,
        "conv_heads": 2,
        "conv_head_dim": 4,
        "train_steps": 10,
        "ft_steps": 3,
    },
    "spike_remedies": {"steps": 24, "corrupt_step": 24, "rewind_steps": 24, "median_window": 10},
    "mla_kv_cache": {
        "layer_d_model": 24,
        "layer_heads": 3,
        "layer_head_dim": 6,
        "layer_d_latent": 30,
        "layer_d_rope": 6,
        "layer_seq_len": 6,
    },
}


def field_strategy(entry: dict[str, Any], cap: int | None) -> st.SearchStrategy[Any]:
    kind, low, high = entry["type"], entry["minimum"], entry["maximum"]
    if kind == "enum":
        return st.sampled_from(entry["choices"])
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(low, high if cap is None else min(high, cap))
    if kind == "number":
        floats = st.floats(
            low,
            high,
            exclude_min=entry["exclusive_minimum"],
            exclude_max=entry["exclusive_maximum"],
            allow_nan=False,
        )
        return st.one_of(st.just(entry["default"]), floats)
    if kind == "string":  # free text (peft_params' comma-separated targets): real and junk
        words = st.sampled_from(["q", "k", "v", "o", "gate", "up", "down", "x", ""])
        return st.one_of(st.just(entry["default"]), st.lists(words, max_size=3).map(",".join))
    raise AssertionError(f"no strategy for {entry}")


def params_strategy(demo: Demo) -> st.SearchStrategy[dict[str, Any]]:
    caps = CHEAP[demo.name]
    fields = {
        entry["name"]: field_strategy(entry, caps.get(entry["name"]))
        for entry in params_schema(demo)
        if entry["name"] != "seed"
    }
    return st.fixed_dictionaries({}, optional=fields)


def test_every_demo_has_cheap_bounds() -> None:
    assert set(CHEAP) == set(registry())


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny models run faster on one thread, and do not fight other processes."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# Validation is cheap and running is not: each demo validates many draws (refusals are
# 2-77% of them for a demo with cross-field rules, measured at 60 draws) and runs only
# a few of those accepted, the ones that set the most fields. A strategy whose draws are
# (almost) all refused fails here, so its CHEAP caps must be biased until some run.
VALIDATED_DRAWS = 60
RUNS_PER_DEMO = 2


@pytest.mark.slow  # two small runs per demo: under a minute for the catalogue
@pytest.mark.parametrize("name", list(registry()))
def test_params_inside_the_bounds_run_or_are_refused_naming_the_field(
    name: str, one_thread: None
) -> None:
    demo = registry()[name]
    accepted: list[dict[str, Any]] = []

    @settings(
        max_examples=VALIDATED_DRAWS,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(raw=params_strategy(demo))
    def check(raw: dict[str, Any]) -> None:
        try:
            validate_params(demo, raw)
        except Unprocessable as refused:
            assert refused.field in params_schema_names(demo), refused.message
            assert refused.message.startswith(f"{refused.field}: ")
            assert "\n" not in refused.message
            return
        accepted.append(raw)

    check()
    assert accepted, f"{name}: every draw was refused; bias its strategy so some run"
    for raw in sorted(accepted, key=len, reverse=True)[:RUNS_PER_DEMO]:
        result = demo.run(validate_params(demo, raw), small_context(demo))
        assert result.figures, raw
        assert all(isinstance(v, float) for v in result.figures.values()), raw


def params_schema_names(demo: Demo) -> set[str]:
    return {entry["name"] for entry in params_schema(demo)}


@pytest.mark.parametrize(
    ("name", "raw", "field"),
    [
        ("rank", {"m": 4, "n": 4}, "r"),
        ("loss_spikes", {"steps": 20}, "corrupt_step"),
        ("peft_latency", {"d_model": 18}, "n_heads"),
        ("peft_latency", {"d_model": 16}, "bottleneck"),
        ("mla_kv_cache", {"layer_d_model": 8}, "layer_d_latent"),
    ],
)
def test_the_known_crashes_are_refused_before_the_run(
    name: str, raw: dict[str, Any], field: str
) -> None:
    """Each of these ran into an IndexError/RuntimeError (or nonsense) while the
    cross-field rules did not run on defaulted fields."""
    with pytest.raises(Unprocessable) as refused:
        validate_params(registry()[name], raw)
    assert refused.value.field == field


# ---- device-agnostic demo code ----------------------------------------------------------

FACTORIES = {
    "zeros", "ones", "randn", "rand", "randint", "randperm", "empty", "full", "arange",
    "linspace", "tensor", "eye", "Generator",
}  # fmt: skip

# Functions that may create CPU tensors or generators, with the reason: "path:function".
# A CPU generator is deliberate where a demo wants one seed to give the same numbers on
# either device: its draws are moved to the run's device before use.
_SEEDED = "one CPU generator for every draw (one seed, same numbers on either device)"
ALLOWED = {
    "lora/measure.py:measure": _SEEDED,
    "loss_spikes/demo.py:run": _SEEDED + "; the corpus ids index the CPU batches; the "
    "fp16/bf16 probes are CPU scalars read with .item()",
    "loss_spikes/model.py:build_model": _SEEDED + "; the model is moved after",
    "loss_spikes/model.py:draw_batches": "batches are built on the CPU and moved per step",
    "mla/layers.py:measure_layer": _SEEDED,
    "mla_cost/layers.py:count_decode_flops": _SEEDED,
    "mla_cost/convert.py:convert": _SEEDED,
    "spike_remedies/demo.py:run": _SEEDED + "; the corpus ids index the CPU batches",
    "nf4/measure.py:measure": _SEEDED,
    "nf4/measure.py:measure_normal": "the published NF4 table, compared on the CPU",
    "nf4/formats.py:fp4_code": "code tables, built once on the CPU and moved where used",
    "nf4/formats.py:int4_code": "code tables, built once on the CPU and moved where used",
    "nf4/formats.py:bnb_fp4_table": "bitsandbytes' fp4 table, compared on the CPU",
    "nf4/quant.py:nf4_code": "code tables, built once on the CPU and moved where used",
    "peft_latency/measure.py:build_models": _SEEDED,
    "qlora/measure.py:measure": _SEEDED,
    "qlora/layers.py:__init__": "A drawn on the CPU from the run's generator, then moved",
    "peft_count/meta_model.py:_attach_ia3": "counts parameters on the meta device, never runs",
}


def _moved_or_on_device(node: ast.Call, parents: dict[ast.AST, ast.AST]) -> bool:
    """device=, a draw from an explicit generator (its creation is what is checked), or
    the result moved at once: ``torch.randn(...).to(device)``."""
    if any(k.arg in ("device", "generator") for k in node.keywords):
        return True
    parent = parents.get(node)
    return isinstance(parent, ast.Attribute) and parent.attr in ("to", "cuda")


def torch_factory_calls(path: Path) -> list[tuple[str, int, str]]:
    """(function, line, call) of each torch.<factory>(...) that does not land on the run's
    device: no device=, no generator=, and no ``.to(...)`` chained on it."""
    tree = ast.parse(path.read_text())
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: list[tuple[str, int, str]] = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            target = node.func
            if not (isinstance(target.value, ast.Name) and target.value.id == "torch"):
                continue
            if target.attr in FACTORIES and not _moved_or_on_device(node, parents):
                found.append((func.name, node.lineno, f"torch.{target.attr}"))
    return found


def test_demo_code_creates_no_tensor_or_generator_off_the_runs_device() -> None:
    offenders: list[str] = []
    for demo in registry().values():
        root = package_root(demo.package)
        for path in sorted(root.rglob("*.py")):
            for func, line, call in torch_factory_calls(path):
                key = f"{path.relative_to(DEMOS_ROOT).as_posix()}:{func}"
                if key not in ALLOWED:
                    offenders.append(f"{key} line {line}: {call} without device=")
    assert not offenders, "\n".join(sorted(set(offenders)))
