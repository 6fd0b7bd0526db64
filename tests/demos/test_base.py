"""The demo contract: checked registration, parameter errors that name the field and
the bound, the form schema, the code version, and a catalogue that never loads torch."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import BaseModel

from app.demos import get_demo, registry
from app.demos.base import (
    Demo,
    DemoParams,
    DemoResult,
    RunContext,
    params_schema,
    register,
    run_version,
    validate_params,
)
from app.errors import NotFound, Unprocessable

REPO_ROOT = Path(__file__).resolve().parents[2]


def fake_run(params: DemoParams, ctx: RunContext) -> DemoResult:
    return DemoResult(figures={}, conclusion="")


def make_demo(name: str, params: type[DemoParams] = DemoParams) -> Demo:
    return Demo(name=name, title="t", summary="s", claims=(), params=params, run=fake_run)


def test_registry_lists_rank_and_get_demo_finds_it() -> None:
    assert "rank" in registry()
    assert get_demo("rank").title == "Matrix rank and low-rank approximation"
    # A copy: callers cannot change the catalogue.
    registry().clear()
    assert "rank" in registry()


def test_get_demo_unknown_is_not_found() -> None:
    with pytest.raises(NotFound) as caught:
        get_demo("nope")
    assert caught.value.field == "demo"
    assert "'nope'" in caught.value.message


def test_register_rejects_duplicate_names() -> None:
    with pytest.raises(ValueError, match="'twin' is registered twice"):
        register([make_demo("twin"), make_demo("twin")])


@pytest.mark.parametrize("name", ["Rank", "has-dash", "", "with space"])
def test_register_rejects_names_not_lowercase_words(name: str) -> None:
    with pytest.raises(ValueError, match="must match"):
        register([make_demo(name)])


def test_register_rejects_params_not_subclassing_demo_params() -> None:
    class Loose(BaseModel):
        x: int = 1

    demo = dataclasses.replace(make_demo("loose"), params=Loose)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must subclass DemoParams"):
        register([demo])


def test_validate_params_fills_defaults() -> None:
    params = validate_params(get_demo("rank"), {})
    assert params.model_dump() == {"seed": 0, "m": 64, "n": 48, "r": 8, "noise": 0.0}


def test_out_of_bounds_names_the_field_and_the_bound() -> None:
    with pytest.raises(Unprocessable) as caught:
        validate_params(get_demo("rank"), {"m": 10000})
    assert caught.value.field == "m"
    assert caught.value.status_code == 422
    assert caught.value.message == "m: must be at most 512 (got 10000)"


def test_below_minimum_names_the_bound() -> None:
    with pytest.raises(Unprocessable) as caught:
        validate_params(get_demo("rank"), {"noise": -0.5})
    assert caught.value.field == "noise"
    assert "at least 0" in caught.value.message


def test_r_above_min_dim_is_an_error_on_r() -> None:
    with pytest.raises(Unprocessable) as caught:
        validate_params(get_demo("rank"), {"m": 10, "n": 20, "r": 11})
    assert caught.value.field == "r"
    assert "min(m, n) = 10" in caught.value.message
    assert "got 11" in caught.value.message


def test_unknown_parameter_is_an_error_naming_it() -> None:
    with pytest.raises(Unprocessable) as caught:
        validate_params(get_demo("rank"), {"rows": 3})
    assert caught.value.field == "rows"
    assert "unknown parameter" in caught.value.message


def test_params_schema_gives_bounds_defaults_and_types() -> None:
    entries = {entry["name"]: entry for entry in params_schema(get_demo("rank"))}
    assert entries["m"]["type"] == "integer"
    assert (entries["m"]["minimum"], entries["m"]["maximum"], entries["m"]["default"]) == (
        2,
        512,
        64,
    )
    assert entries["m"]["description"]
    assert entries["noise"]["type"] == "number"
    assert entries["noise"]["maximum"] == 1.0
    assert entries["seed"]["maximum"] == 2**31 - 1
    assert [entry["name"] for entry in params_schema(get_demo("rank"))][-1] == "seed"


def test_params_schema_handles_enums_and_booleans() -> None:
    from typing import Literal

    class Choice(DemoParams):
        mode: Literal["a", "b"] = "a"
        flag: bool = False

    entries = {entry["name"]: entry for entry in params_schema(make_demo("choice", Choice))}
    assert entries["mode"]["type"] == "enum"
    assert entries["mode"]["choices"] == ["a", "b"]
    assert entries["flag"]["type"] == "boolean"


def test_code_version_is_stable_and_16_hex() -> None:
    version = get_demo("rank").code_version
    assert len(version) == 16
    int(version, 16)
    assert get_demo("rank").code_version == version
    # Demos defined in different modules have different versions.
    assert make_demo("other").code_version != version


def test_catalogue_does_not_import_torch() -> None:
    script = textwrap.dedent(
        """
        import sys
        import app.demos
        from app.demos.base import params_schema, validate_params
        for demo in app.demos.registry().values():
            params_schema(demo)
            params = validate_params(demo, {})
            demo.code_version
            # Claim files are checked against these names in the web process too.
            assert demo.figure_names is not None, demo.name
            demo.figure_names(params)
        loaded = sorted(name for name in sys.modules if name.split(".")[0] == "torch")
        assert not loaded, loaded
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def _versions_in(root: Path) -> dict[str, str]:
    """Every demo's code version, computed by a fresh process importing ``app`` from
    ``root`` (a copy of the demos: the test edits it)."""
    script = (
        "import json, app.demos as d; "
        "print(json.dumps({n: x.code_version for n, x in d.registry().items()}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    versions: dict[str, str] = json.loads(done.stdout)
    return versions


def test_editing_a_used_package_changes_the_users_code_version(tmp_path: Path) -> None:
    """peft_latency runs LoRA's layer: an edit to app/demos/lora/layers.py must re-version
    it (and lora), and leave a demo that does not use lora alone."""
    (tmp_path / "app").mkdir()
    for name in ("__init__.py", "errors.py"):
        shutil.copy(REPO_ROOT / "app" / name, tmp_path / "app" / name)
    shutil.copytree(
        REPO_ROOT / "app" / "demos",
        tmp_path / "app" / "demos",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    before = _versions_in(tmp_path)
    with (tmp_path / "app" / "demos" / "lora" / "layers.py").open("a") as layers:
        layers.write("\n# an edit\n")
    after = _versions_in(tmp_path)
    assert after["peft_latency"] != before["peft_latency"]
    assert after["lora"] != before["lora"]
    assert after["rank"] == before["rank"] and after["nf4"] == before["nf4"]


def test_a_demo_outside_a_package_or_using_a_missing_one_is_refused() -> None:
    with pytest.raises(ValueError, match="not found"):
        register([dataclasses.replace(make_demo("x"), uses=("app.demos.nowhere",))])


def test_run_version_joins_the_inputs_digest_for_a_demo_that_reads_inputs() -> None:
    spikes = get_demo("loss_spikes")
    first = run_version(spikes, {"answers": "some answers"})
    assert first.startswith(spikes.code_version + "+")
    assert run_version(spikes, {"answers": "other answers"}) != first
    assert run_version(get_demo("rank"), {}) == get_demo("rank").code_version
