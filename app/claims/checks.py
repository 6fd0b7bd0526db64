"""Reading one check of a claim file: the whole claim, or one of its ``parts`` (halves),
which inherit the claim's demo, params, seeds, settings and device. Every problem is a
diagnostic at the line of the key at fault (``app.claims.files`` reports them)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.claims.rule_parser import parse_rule
from app.claims.rules import Condition, RuleError, figure_names
from app.claims.spec import KINDS, CheckSpec, Kind, RunSpec
from app.claims.texts import Text, TextError, missing_languages, read_text
from app.claims.verdict import VERDICTS, TemplateError, template_fields
from app.demos import registry
from app.demos.base import validate_params
from app.errors import Unprocessable
from app.models.runs import params_hash

if TYPE_CHECKING:
    from app.claims.located import Mapping as _Mapping

CHECK_KEYS = (
    "kind", "demo", "params", "seeds", "runs", "device", "supported", "refuted",
    "undecided", "verdict", "needs", "explanation", "sources",
)  # fmt: skip
INHERITED = ("demo", "params", "seeds", "runs", "device")
RULES = ("undecided", "supported", "refuted")
SETTING = re.compile(r"[a-z][a-z0-9_]{0,39}")
Report = Callable[[int, str], None]


class CheckReader:
    """Reads checks, reporting through ``error(line, message)`` and ``warn``."""

    def __init__(self, error: Report, warn: Report, errors: Callable[[], int]) -> None:
        self.error = error
        self.warn = warn
        self.errors = errors  # how many errors were reported so far

    def text(self, m: _Mapping, key: str, *, required: bool = False) -> Text:
        line = m.lines.get(key, m.line)
        if key not in m.values:
            if required:
                self.error(m.line, f"the claim lacks {key}")
            return {}
        try:
            text = read_text(m.plain(key))
        except TextError as exc:
            self.error(line, f"{key}: {exc}")
            return {}
        for lang in missing_languages(text):
            self.warn(line, f"{key} has no {lang} text (write {{en: ..., zh: ...}})")
        return text

    def check(self, m: _Mapping, parent: _Mapping | None, label: str | None) -> CheckSpec | None:
        before = self.errors()
        own = m.values

        def get(key: str) -> tuple[Any, int]:
            if key in own or parent is None or key not in INHERITED:
                return m.plain(key), m.lines.get(key, m.line)
            return parent.plain(key), parent.lines.get(key, parent.line)

        kind_value = own.get("kind", parent.plain("kind") if parent else None) or "measured"
        if kind_value not in KINDS:
            self.error(m.lines.get("kind", m.line), f"kind must be one of {', '.join(KINDS)}")
            return None
        kind: Kind = kind_value
        rules_text: dict[str, str | None] = {}
        for key in RULES:
            value = m.plain(key)
            if value is not None and not isinstance(value, str):
                self.error(m.lines[key], f"{key} must be text, not {type(value).__name__}")
                value = None
            rules_text[key] = value
        verdict = m.plain("verdict")
        if verdict is not None and verdict not in VERDICTS:
            self.error(m.lines["verdict"], f"verdict must be one of {', '.join(VERDICTS)}")
        sources = m.plain("sources") if "sources" in own else []
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            self.error(m.lines.get("sources", m.line), "sources must be a list of texts")
            sources = []
        device, device_line = get("device")
        if device not in (None, "gpu"):
            self.error(device_line, "device must be gpu (or absent)")
        needs = self.text(m, "needs", required=kind == "not-measurable-here")
        demo_name, demo_line = get("demo")
        has_rules = any(rules_text[k] for k in ("supported", "refuted"))

        if kind == "cited":
            for key in ("demo", *RULES, "seeds", "runs", "device"):
                if key in own:
                    self.error(m.lines[key], f"a cited claim has no {key} (it has no runs)")
            if verdict is None:
                self.error(m.line, "a cited claim needs a verdict: (supported, refuted, …)")
            if not sources and not (parent and parent.plain("sources")):
                self.error(m.line, "a cited claim needs sources: (the paper, section or table)")
            demo_name = None
        elif kind == "not-measurable-here":
            if demo_name is not None and not has_rules and "demo" in own:
                self.error(m.line, "with a demo, a not-measurable-here claim needs rules")
            if not has_rules:
                demo_name = None
        else:
            if demo_name is None:
                self.error(m.line, f"a {kind} claim needs a demo (or use kind: cited)")
            if not has_rules:
                self.error(m.line, "the claim needs a 'supported' or a 'refuted' rule (or both)")
            if verdict is not None:
                self.error(m.lines["verdict"], f"a {kind} claim's verdict comes from its runs")

        runs, seeds, settings, produced = self.runs(m, parent, get, demo_name, demo_line)
        rules: dict[str, Condition | None] = {}
        for key in RULES:
            rules[key] = self.rule(m, key, rules_text[key], produced)
        if len(seeds) > 1 and rules["undecided"] is None and kind == "measured":
            self.warn(
                m.line,
                "a claim over several seeds without an 'undecided' rule is decided even when "
                "the effect is inside the spread",
            )
        explanation = self.text(m, "explanation", required=True)
        for lang, template in explanation.items():
            self.template(m, "explanation", lang, template, produced, allow=demo_name is not None)
        if self.errors() > before:
            return None
        return CheckSpec(
            kind=kind,
            label=label,
            demo=demo_name,
            runs=runs,
            seeds=seeds,
            settings=settings,
            device=device,
            supported=rules_text["supported"],
            refuted=rules_text["refuted"],
            undecided=rules_text["undecided"],
            verdict=verdict,
            needs=needs,
            explanation=explanation,
            sources=sources or (list(parent.plain("sources") or []) if parent else []),
        )

    def runs(
        self,
        m: _Mapping,
        parent: _Mapping | None,
        get: Callable[[str], tuple[Any, int]],
        demo_name: str | None,
        demo_line: int,
    ) -> tuple[list[RunSpec], list[int], list[str], set[str]]:
        """The runs a check needs, its seeds and settings, and the figure names its rules
        may read (``setting.figure`` with settings)."""
        if demo_name is None:
            return [], [], [], set()
        demos = registry()
        demo = demos.get(demo_name)
        if demo is None:
            self.error(demo_line, f"no demo is named {demo_name!r} (there are: {', '.join(demos)})")
            return [], [], [], set()
        if demo.figure_names is None:
            self.error(demo_line, f"demo {demo_name!r} does not declare its figures")
            return [], [], [], set()
        base: dict[str, Any] = {}
        for source in (parent, m):
            if source is None or "params" not in source.values:
                continue
            raw = source.plain("params")
            if not isinstance(raw, dict):
                self.error(source.lines["params"], "params must be a mapping of name: value")
                return [], [], [], set()
            base |= raw
        params_line = m.lines.get(
            "params", parent.lines.get("params", m.line) if parent else m.line
        )
        seeds_value, seeds_line = get("seeds")
        seeds: list[int] = []
        if seeds_value is not None:
            if (
                not isinstance(seeds_value, list)
                or not seeds_value
                or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds_value)
                or len(set(seeds_value)) != len(seeds_value)
                or min(seeds_value) < 0
            ):
                self.error(seeds_line, "seeds must be a list of distinct non-negative integers")
                return [], [], [], set()
            if "seed" not in demo.params.model_fields:
                self.error(seeds_line, f"demo {demo_name!r} has no seed parameter")
                return [], [], [], set()
            if "seed" in base:
                self.error(params_line, "params.seed and seeds: give one of them")
                return [], [], [], set()
            seeds = list(seeds_value)
        settings_value, settings_line = get("runs")
        settings: dict[str, dict[str, Any]] = {"": {}}
        if settings_value is not None:
            if not isinstance(settings_value, dict) or not settings_value:
                self.error(settings_line, "runs must map a setting's name to its params")
                return [], [], [], set()
            settings = {}
            for name, extra in settings_value.items():
                if not SETTING.fullmatch(str(name)) or not isinstance(extra, dict):
                    self.error(
                        settings_line,
                        f"runs: {name!r} must be named [a-z][a-z0-9_]* and map to params",
                    )
                    return [], [], [], set()
                settings[str(name)] = extra
        runs: list[RunSpec] = []
        produced: set[str] = set()
        for setting, extra in settings.items():
            at_seeds: list[int | None] = list(seeds) or [None]
            for seed in at_seeds:
                raw = base | extra | ({"seed": seed} if seed is not None else {})
                try:
                    params = validate_params(demo, raw).model_dump(mode="json")
                except Unprocessable as exc:
                    where = f" (setting {setting})" if setting else ""
                    line = settings_line if setting and exc.field in extra else params_line
                    self.error(line, f"params of demo {demo.name!r}{where}: {exc}")
                    return [], [], [], set()
                runs.append(RunSpec(setting, seed, params, params_hash(params)))
            names = demo.figure_names(demo.params.model_validate(runs[-1].params))
            produced |= {f"{setting}.{n}" if setting else n for n in names}
        return runs, seeds, [s for s in settings if s], produced

    def rule(self, m: _Mapping, key: str, text: str | None, produced: set[str]) -> Condition | None:
        if text is None:
            return None
        try:
            condition = parse_rule(text)
        except RuleError as exc:
            self.error(m.lines[key], f"{key}: {exc}")
            return None
        if not produced:
            self.error(m.lines[key], f"{key}: a claim without a demo has no figures to test")
            return None
        self.unknown_figures(m.lines[key], key, figure_names(condition), produced)
        return condition

    def template(
        self, m: _Mapping, key: str, lang: str, template: str, produced: set[str], *, allow: bool
    ) -> None:
        try:
            shown = template_fields(template)
        except TemplateError as exc:
            self.error(m.lines.get(key, m.line), f"{key} ({lang}): {exc}")
            return
        if shown and not allow:
            self.error(m.lines.get(key, m.line), f"{key}: a claim without runs shows no figures")
            return
        self.unknown_figures(m.lines.get(key, m.line), key, shown, produced)

    def unknown_figures(self, line: int, key: str, used: set[str], produced: set[str]) -> None:
        if not produced:
            return  # the demo or its params are wrong: already reported
        for name in sorted(used - produced - {"n"}):
            self.error(
                line,
                f"{key}: the demo does not produce a figure {name!r} with these params "
                f"(it produces: {', '.join(sorted(produced))})",
            )
