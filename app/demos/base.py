"""What a demo is: its parameter model, its result, the context a worker runs it in,
and the checked registration the catalogue is built from.

The web process imports this module (to list demos, validate parameters and build
forms), so nothing here may import torch; demos import it inside ``run``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.demos.text import N_, Table, Text, Unit
from app.errors import Unprocessable

NAME_PATTERN = re.compile(r"[a-z0-9_]+")


class DemoParams(BaseModel):
    """Base of each demo's parameter model: unknown keys are errors, and every run is
    seeded so that the same parameters give the same figures."""

    # A typo in a parameter name must not silently run the defaults; cross-field rules
    # (field validators reading ``info.data``) run on defaulted fields too.
    model_config = ConfigDict(extra="forbid", validate_default=True)

    seed: int = Field(
        default=0,
        ge=0,
        le=2**31 - 1,
        description=N_("Random seed"),
        json_schema_extra={"group": "advanced", "label": N_("Random seed")},
    )


class Series(BaseModel):
    """One line, bar set or scatter on a chart; series sharing ``chart`` are drawn together.
    Phases of a training run (pre-training, fine-tuning, each rank) are separate series."""

    name: str | Text
    x: list[float]
    y: list[float]
    kind: Literal["line", "bar", "scatter"] = "line"
    x_label: str | Text = ""
    y_label: str | Text = ""
    log_y: bool = False
    chart: str = "main"
    # Bars of the series sharing ``chart`` are stacked (a memory breakdown, say).
    stacked: bool = False
    # Named categories of a categorical x axis: x value i is labelled categories[i].
    categories: list[Text | str] | None = None
    # How the y values (ticks, tooltips) are formatted.
    unit: Unit | None = None


class Check(BaseModel):
    """A statement the demo tested on its own numbers."""

    name: str | Text
    passed: bool
    detail: str | Text = ""


class DemoResult(BaseModel):
    """What a run returns: named figures (claims' rules read these), charts, checks and
    a short conclusion with the measured numbers; the page opens with ``headline`` (the
    answer in one or two sentences) and the ``summary`` table."""

    figures: dict[str, float]
    series: list[Series] = []
    checks: list[Check] = []
    conclusion: str | Text
    headline: Text | None = None
    summary: Table | None = None
    # How each figure is formatted, and its label, in the details table.
    figure_units: dict[str, Unit] = {}
    figure_labels: dict[str, Text] = {}


class ProgressReporter(Protocol):
    def __call__(self, step: int, total: int, metrics: dict[str, float]) -> None: ...


# The data a demo may read besides its params. "answers": the text of the bank's
# answers (``app.content.answers.answers_text``), which loss_spikes trains on.
InputName = Literal["answers"]


@dataclass
class RunContext:
    """Where a run executes, how it reports progress, and the inputs the demo declared:
    a demo reads nothing else (no settings, no files)."""

    device: str  # "cpu" or "cuda"
    report: ProgressReporter  # the worker stores each report (and may throttle)
    inputs: Mapping[str, str] = field(default_factory=dict)

    def progress(self, step: int, total: int, **metrics: float) -> None:
        self.report(step, total, metrics)


def package_root(package: str) -> Path:
    """The folder of a demo package, found without importing it (it may hold torch code)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"demo package {package!r} not found (a demo is a package)")
    return Path(next(iter(spec.submodule_search_locations)))


def _package_files(root: Path) -> list[Path]:
    """Every source file of a package, sub-folders included, in a stable order."""
    return sorted(path for path in root.rglob("*.py") if "__pycache__" not in path.parts)


@cache
def _packages_digest(packages: tuple[str, ...]) -> str:
    # Cached: the source of a loaded package does not change under a running process.
    digest = hashlib.sha256()
    for package in packages:
        root = package_root(package)
        for path in _package_files(root):
            # The package and the path inside it are hashed too: a moved file re-versions.
            name = f"{package}:{path.relative_to(root).as_posix()}"
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def package_of(module_name: str) -> str:
    """The demo package a module belongs to: ``app.demos.lora.demo`` -> ``app.demos.lora``
    (a module outside ``app.demos``, such as a test's fake demo, counts as its own parent
    package)."""
    parts = module_name.split(".")
    if parts[:2] == ["app", "demos"] and len(parts) >= 3:
        return ".".join(parts[:3])
    return module_name.rpartition(".")[0]


@dataclass(frozen=True)
class Demo:
    """A registered demo. ``run(params, ctx)`` receives validated ``params``."""

    name: str  # unique, lowercase [a-z0-9_]+
    title: str  # an English msgid (N_("...")), translated on pages
    summary: str  # one paragraph; an English msgid too
    claims: tuple[str, ...]  # free-text claims it can check
    params: type[DemoParams]
    run: Callable[[Any, RunContext], DemoResult]
    time_limit_s: float = 60.0  # the worker kills a run past this
    uses_gpu: bool = True  # can use cuda when the worker has it
    # Other demo packages whose code this one runs (``("app.demos.lora",)``): every
    # file of them counts toward ``code_version`` too.
    uses: tuple[str, ...] = ()
    # Data the run reads besides its params, handed in through ``RunContext.inputs``
    # (loaded by ``app.content.answers.demo_inputs``); its digest joins the cache key
    # (``run_version``).
    inputs: tuple[InputName, ...] = ()
    # The names of the figures a run with the given (validated) params returns. Claims'
    # rules are checked against them at import; a demo without it can't back a claim.
    # tests/demos/test_figure_names.py runs every demo to keep this honest.
    figure_names: Callable[[Any], Collection[str]] | None = None
    # False for a demo whose progress is a count, not a curve: the run page shows a
    # progress bar instead of a live chart.
    live_chart: bool = True
    # Bank topic tags the demo bears on (("LoRA", "QLoRA")), matched case-insensitively
    # against question tags for the related-demos lists.
    topics: tuple[str, ...] = ()

    @property
    def package(self) -> str:
        """The demo's own package: the one holding the module that defines ``run``."""
        return package_of(self.run.__module__)

    @property
    def code_version(self) -> str:
        """First 16 hex digits of the sha256 of every file of the demo's package and of
        the packages it ``uses``: a stored result is reused only while this is unchanged."""
        return _packages_digest((self.package, *self.uses))


def register(demos: Iterable[Demo]) -> dict[str, Demo]:
    """The catalogue, name -> demo, after checking names and parameter models."""
    catalogue: dict[str, Demo] = {}
    for demo in demos:
        if not NAME_PATTERN.fullmatch(demo.name):
            raise ValueError(f"demo name {demo.name!r} must match [a-z0-9_]+ (lowercase)")
        if demo.name in catalogue:
            raise ValueError(f"demo name {demo.name!r} is registered twice")
        if not (isinstance(demo.params, type) and issubclass(demo.params, DemoParams)):
            raise ValueError(f"demo {demo.name!r}: params {demo.params!r} must subclass DemoParams")
        if demo.time_limit_s <= 0:
            raise ValueError(f"demo {demo.name!r}: time_limit_s must be positive")
        for package in demo.uses:
            package_root(package)  # raises when it is not a package
        catalogue[demo.name] = demo
    return catalogue


def run_version(demo: Demo, inputs: Mapping[str, str]) -> str:
    """The cache key's version of a run: ``code_version``, plus a digest of the inputs
    for a demo that reads any (a changed bank then re-runs loss_spikes)."""
    if not demo.inputs:
        return demo.code_version
    digest = hashlib.sha256()
    for name in sorted(demo.inputs):
        digest.update(name.encode() + b"\0" + inputs[name].encode() + b"\0")
    return f"{demo.code_version}+{digest.hexdigest()[:16]}"


class ParamError(ValueError):
    """A demo's own check of its parameters (one field against another), raised in a
    validator: ``raise ParamError(N_("must be at most %(name)s = %(value)s"),
    name="hidden", value=64)``. The message is an English msgid with ``%(name)s``
    placeholders, so a page shows it in the reader's language; the JSON API gets it in
    English."""

    def __init__(self, msgid: str, **args: str | int | float) -> None:
        self.msgid = msgid
        self.params = args
        super().__init__(msgid % args if args else msgid)


def at_most(name: str, value: str | int | float) -> ParamError:
    """The common cross-field refusal, ``must be at most hidden = 64``, translatable."""
    return ParamError(N_("must be at most %(name)s = %(value)s"), name=name, value=value)


# Pydantic's error types as the sentences a user reads, each an English msgid with the
# error's context as placeholders (translated where shown, ``AppError.text``).
_BOUNDS = {
    "le": N_("%(field)s: must be at most %(bound)s (got %(got)s)"),
    "ge": N_("%(field)s: must be at least %(bound)s (got %(got)s)"),
    "lt": N_("%(field)s: must be less than %(bound)s (got %(got)s)"),
    "gt": N_("%(field)s: must be greater than %(bound)s (got %(got)s)"),
}
_WHOLE = N_("%(field)s: must be a whole number (got %(got)s)")
_NUMBER = N_("%(field)s: must be a number (got %(got)s)")
_BOOLEAN = N_("%(field)s: must be true or false (got %(got)s)")
_CHOICE = N_("%(field)s: must be one of %(expected)s (got %(got)s)")
_TYPES = {
    "int_parsing": _WHOLE,
    "int_type": _WHOLE,
    "int_from_float": _WHOLE,
    "float_parsing": _NUMBER,
    "float_type": _NUMBER,
    "finite_number": N_("%(field)s: must be a finite number (got %(got)s)"),
    "bool_parsing": _BOOLEAN,
    "bool_type": _BOOLEAN,
    "literal_error": _CHOICE,
    "enum": _CHOICE,
    "string_too_short": N_("%(field)s: must have at least %(min_length)s characters"),
    "string_too_long": N_("%(field)s: must have at most %(max_length)s characters"),
    "missing": N_("%(field)s: is required"),
    "extra_forbidden": N_("%(field)s: unknown parameter (expected one of %(expected)s)"),
}
# A model's own ValueError: its message (translated when it is a ParamError).
_OWN = N_("%(field)s: %(problem)s (got %(got)s)")


def validate_params(demo: Demo, raw: Mapping[str, Any]) -> DemoParams:
    """``raw`` checked against the demo's model; the first problem becomes a 422 naming
    the field and, for a bound, the bound: ``m: must be at most 512 (got 10000)``. The
    message is a msgid with its values as ``Unprocessable`` parameters, so a page shows
    it translated; a ``ParamError``'s own msgid and values come along as
    ``problem_msgid`` and ``problem_args``."""
    try:
        return demo.params.model_validate(dict(raw))
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or None
        ctx = error.get("ctx") or {}
        got = error.get("input")
        values: dict[str, Any] = {"got": repr(got), "input": got}
        bound = next((key for key in _BOUNDS if key in ctx), None)
        if bound is not None:
            template, values["bound"] = _BOUNDS[bound], ctx[bound]
        elif error["type"] == "extra_forbidden":
            template, values["expected"] = (
                _TYPES["extra_forbidden"],
                ", ".join(demo.params.model_fields),
            )
        elif error["type"] in _TYPES:
            template = _TYPES[error["type"]]
            values |= {k: v for k, v in ctx.items() if isinstance(v, str | int | float)}
        else:
            # A model's own ValueError arrives as "Value error, <message>".
            own = ctx.get("error")
            values["problem"] = str(error["msg"]).removeprefix("Value error, ")
            if isinstance(own, ParamError):
                values |= {"problem_msgid": own.msgid, "problem_args": own.params}
            template = _OWN
        if field is None:  # a check of the whole model
            template, field = template.replace("%(field)s: ", "", 1), None
        raise Unprocessable(template, field=field, **values) from exc


_JSON_TYPES = {"integer", "number", "boolean", "string"}


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Follow a ``$ref`` (enums live in ``$defs``) and drop an ``anyOf`` null branch."""
    if "$ref" in prop:
        target = defs[prop["$ref"].rsplit("/", 1)[-1]]
        prop = {**target, **{k: v for k, v in prop.items() if k != "$ref"}}
    if "anyOf" in prop:
        branches = [b for b in prop["anyOf"] if b.get("type") != "null"]
        if len(branches) == 1:
            rest = {k: v for k, v in prop.items() if k != "anyOf"}
            prop = {**_resolve(branches[0], defs), **rest}
    return prop


def params_schema(demo: Demo) -> list[dict[str, Any]]:
    """One entry per parameter, for the web form and ``demo list --format json``:
    name, type (integer, number, boolean, string or enum), default, minimum, maximum,
    choices (for an enum), description, group, label, unit, show_if and
    choice_labels ({value: English msgid}). An exclusive
    bound (``gt``/``lt``) is given as minimum/maximum with
    ``exclusive_minimum``/``exclusive_maximum`` set."""
    schema = demo.params.model_json_schema()
    defs: dict[str, Any] = schema.get("$defs", {})
    entries: list[dict[str, Any]] = []
    for name, raw_prop in schema.get("properties", {}).items():
        prop = _resolve(raw_prop, defs)
        choices = prop.get("enum")
        if choices is None and "const" in prop:
            choices = [prop["const"]]
        kind = "enum" if choices is not None else prop.get("type", "string")
        entries.append(
            {
                "name": name,
                "type": kind if kind == "enum" or kind in _JSON_TYPES else "string",
                "default": prop.get("default"),
                "minimum": prop.get("minimum", prop.get("exclusiveMinimum")),
                "maximum": prop.get("maximum", prop.get("exclusiveMaximum")),
                "exclusive_minimum": "exclusiveMinimum" in prop,
                "exclusive_maximum": "exclusiveMaximum" in prop,
                "choices": choices,
                "description": prop.get("description", ""),
                # From ``Field(json_schema_extra=...)``: the form's group ("model",
                # "method", "training" or "advanced"), the label and unit in words
                # (English msgids) and ``show_if`` ({other field: [values]}).
                "group": prop.get("group", "advanced" if name == "seed" else "training"),
                "label": prop.get("label", ""),
                "unit": prop.get("unit"),
                "show_if": prop.get("show_if"),
                "choice_labels": prop.get("choice_labels") or {},
            }
        )
    # The inherited seed comes first in the model; a form reads better with it last.
    entries.sort(key=lambda entry: entry["name"] == "seed")
    return entries
