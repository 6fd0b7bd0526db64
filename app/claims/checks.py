"""Reading one check of a claim file: the whole claim, or one of its ``parts`` (halves),
which inherit the claim's demo, params, seeds, settings and device. Every problem is a
diagnostic at the line of the key at fault (``app.claims.files`` reports them)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from app.claims.located import Mapping as _Mapping
from app.claims.rule_parser import parse_rule
from app.claims.rules import Condition, RuleError, figure_names
from app.claims.spec import KINDS, CheckSpec, Kind, RunSpec
from app.claims.texts import Text, TextError, missing_languages, read_text
from app.claims.verdict import VERDICTS, TemplateError, template_fields
from app.content.model import Message, Value
from app.demos import registry
from app.demos.base import validate_params
from app.errors import AppError, Unprocessable
from app.i18n import mark as N_
from app.models.runs import params_hash

CHECK_KEYS = (
    "kind", "demo", "params", "seeds", "runs", "device", "supported", "refuted",
    "undecided", "verdict", "needs", "explanation", "when", "sources",
)  # fmt: skip
INHERITED = ("demo", "params", "seeds", "runs", "device")
RULES = ("undecided", "supported", "refuted")
SETTING = re.compile(r"[a-z][a-z0-9_]{0,39}")
MUST_BE_TEXT = N_("%(key)s must be text, not %(type)s")


class Report(Protocol):
    """Reports a problem at a line: an English template marked ``N_`` and its values (or
    a ``Message``), as ``app.content.model.Diagnostic.of`` takes them."""

    def __call__(self, line: int, template: str | Message, /, **values: Value) -> None: ...


class CheckReader:
    """Reads checks, reporting through ``error(line, message)`` and ``warn``."""

    def __init__(self, error: Report, warn: Report, errors: Callable[[], int]) -> None:
        self.error = error
        self.warn = warn
        self.errors = errors  # how many errors were reported so far

    def text(
        self, m: _Mapping, key: str, *, required: bool = False, name: str | None = None
    ) -> Text:
        """The text under ``key``; ``name``: how problems call it (``key`` by default)."""
        line, name = m.lines.get(key, m.line), name or key
        if key not in m.values:
            if required:
                self.error(m.line, N_("the claim lacks %(keys)s"), keys=key)
            return {}
        try:
            text = read_text(m.plain(key))
        except TextError as exc:
            self.error(line, N_("%(key)s: %(problem)s"), key=name, problem=exc.message)
            return {}
        for lang in missing_languages(text):
            template = N_("%(key)s has no %(lang)s text (write {en: ..., zh: ...})")
            self.warn(line, template, key=name, lang=lang)
        return text

    def verdict_sentences(
        self, m: _Mapping, produced: set[str], *, has_runs: bool
    ) -> dict[str, Text]:
        """``when``: for each verdict the runs may give, a sentence (a template like the
        explanation) that says what that verdict means for this claim."""
        if "when" not in m.values:
            return {}
        line, value = m.lines["when"], m.values["when"]
        if not has_runs:
            fixed = N_("when: a claim without runs has a fixed verdict (say it in the explanation)")
            self.error(line, fixed)
            return {}
        verdicts = ", ".join(VERDICTS)
        if not isinstance(value, _Mapping) or not value.values:
            self.error(line, N_("when maps a verdict (%(verdicts)s) to a text"), verdicts=verdicts)
            return {}
        sentences: dict[str, Text] = {}
        for verdict in value.values:
            if verdict not in VERDICTS:
                template = N_("when: %(found)s is not a verdict (%(verdicts)s)")
                self.error(value.lines[verdict], template, found=verdict, verdicts=verdicts)
                continue
            name = f"when.{verdict}"
            text = self.text(value, verdict, name=name)
            for lang, sentence in text.items():
                self.template(value, verdict, lang, sentence, produced, allow=True, name=name)
            if text:
                sentences[verdict] = text
        return sentences

    def check(self, m: _Mapping, parent: _Mapping | None, label: str | None) -> CheckSpec | None:
        before = self.errors()
        own = m.values

        def get(key: str) -> tuple[Any, int]:
            if key in own or parent is None or key not in INHERITED:
                return m.plain(key), m.lines.get(key, m.line)
            return parent.plain(key), parent.lines.get(key, parent.line)

        kind_value = own.get("kind", parent.plain("kind") if parent else None) or "measured"
        if kind_value not in KINDS:
            template = N_("kind must be one of %(kinds)s")
            self.error(m.lines.get("kind", m.line), template, kinds=", ".join(KINDS))
            return None
        kind: Kind = kind_value
        rules_text: dict[str, str | None] = {}
        for key in RULES:
            value = m.plain(key)
            if value is not None and not isinstance(value, str):
                self.error(m.lines[key], MUST_BE_TEXT, key=key, type=type(value).__name__)
                value = None
            rules_text[key] = value
        verdict = m.plain("verdict")
        if verdict is not None and verdict not in VERDICTS:
            template = N_("verdict must be one of %(verdicts)s")
            self.error(m.lines["verdict"], template, verdicts=", ".join(VERDICTS))
        sources = m.plain("sources") if "sources" in own else []
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            self.error(m.lines.get("sources", m.line), N_("sources must be a list of texts"))
            sources = []
        device, device_line = get("device")
        if device not in (None, "gpu"):
            self.error(device_line, N_("device must be gpu (or absent)"))
        needs = self.text(m, "needs", required=kind == "not-measurable-here")
        demo_name, demo_line = get("demo")
        has_rules = any(rules_text[k] for k in ("supported", "refuted"))

        if kind == "cited":
            for key in ("demo", *RULES, "seeds", "runs", "device"):
                if key in own:
                    template = N_("a cited claim has no %(key)s (it has no runs)")
                    self.error(m.lines[key], template, key=key)
            if verdict is None:
                self.error(m.line, N_("a cited claim needs a verdict: (supported, refuted, …)"))
            if not sources and not (parent and parent.plain("sources")):
                template = N_("a cited claim needs sources: (the paper, section or table)")
                self.error(m.line, template)
            demo_name = None
        elif kind == "not-measurable-here":
            if demo_name is not None and not has_rules and "demo" in own:
                self.error(m.line, N_("with a demo, a not-measurable-here claim needs rules"))
            if not has_rules:
                demo_name = None
        else:
            if demo_name is None:
                template = N_("a %(kind)s claim needs a demo (or use kind: cited)")
                self.error(m.line, template, kind=kind)
            if not has_rules:
                template = N_("the claim needs a 'supported' or a 'refuted' rule (or both)")
                self.error(m.line, template)
            if verdict is not None:
                template = N_("a %(kind)s claim's verdict comes from its runs")
                self.error(m.lines["verdict"], template, kind=kind)

        runs, seeds, settings, produced = self.runs(m, parent, get, demo_name, demo_line)
        rules: dict[str, Condition | None] = {}
        for key in RULES:
            rules[key] = self.rule(m, key, rules_text[key], produced)
        if len(seeds) > 1 and rules["undecided"] is None and kind == "measured":
            self.warn(
                m.line,
                N_(
                    "a claim over several seeds without an 'undecided' rule is decided even "
                    "when the effect is inside the spread"
                ),
            )
        explanation = self.text(m, "explanation", required=True)
        for lang, template in explanation.items():
            self.template(m, "explanation", lang, template, produced, allow=demo_name is not None)
        when = self.verdict_sentences(m, produced, has_runs=bool(runs))
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
            when=when,
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
            template = N_("no demo is named %(demo)r (there are: %(demos)s)")
            self.error(demo_line, template, demo=demo_name, demos=", ".join(demos))
            return [], [], [], set()
        if demo.figure_names is None:
            self.error(demo_line, N_("demo %(demo)r does not declare its figures"), demo=demo_name)
            return [], [], [], set()
        base: dict[str, Any] = {}
        for source in (parent, m):
            if source is None or "params" not in source.values:
                continue
            raw = source.plain("params")
            if not isinstance(raw, dict):
                self.error(source.lines["params"], N_("params must be a mapping of name: value"))
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
                self.error(seeds_line, N_("seeds must be a list of distinct non-negative integers"))
                return [], [], [], set()
            if "seed" not in demo.params.model_fields:
                self.error(seeds_line, N_("demo %(demo)r has no seed parameter"), demo=demo_name)
                return [], [], [], set()
            if "seed" in base:
                self.error(params_line, N_("params.seed and seeds: give one of them"))
                return [], [], [], set()
            seeds = list(seeds_value)
        settings_value, settings_line = get("runs")
        settings: dict[str, dict[str, Any]] = {"": {}}
        if settings_value is not None:
            if not isinstance(settings_value, dict) or not settings_value:
                self.error(settings_line, N_("runs must map a setting's name to its params"))
                return [], [], [], set()
            settings = {}
            for name, extra in settings_value.items():
                if not SETTING.fullmatch(str(name)) or not isinstance(extra, dict):
                    template = N_("runs: %(name)r must be named [a-z][a-z0-9_]* and map to params")
                    self.error(settings_line, template, name=name)
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
                    line = settings_line if setting and exc.field in extra else params_line
                    problem = message_of(exc)
                    if setting:
                        template = N_("params of demo %(demo)r (setting %(setting)s): %(problem)s")
                        self.error(line, template, demo=demo.name, setting=setting, problem=problem)
                    else:
                        template = N_("params of demo %(demo)r: %(problem)s")
                        self.error(line, template, demo=demo.name, problem=problem)
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
            self.error(m.lines[key], N_("%(key)s: %(problem)s"), key=key, problem=exc.message)
            return None
        if not produced:
            template = N_("%(key)s: a claim without a demo has no figures to test")
            self.error(m.lines[key], template, key=key)
            return None
        self.unknown_figures(m.lines[key], key, figure_names(condition), produced)
        return condition

    def template(
        self,
        m: _Mapping,
        key: str,
        lang: str,
        template: str,
        produced: set[str],
        *,
        allow: bool,
        name: str | None = None,
    ) -> None:
        line, name = m.lines.get(key, m.line), name or key
        try:
            shown = template_fields(template)
        except TemplateError as exc:
            template = N_("%(key)s (%(lang)s): %(problem)s")
            self.error(line, template, key=name, lang=lang, problem=exc.message)
            return
        if shown and not allow:
            template = N_("%(key)s: a claim without runs shows no figures")
            self.error(line, template, key=name)
            return
        self.unknown_figures(line, name, shown, produced)

    def unknown_figures(self, line: int, key: str, used: set[str], produced: set[str]) -> None:
        if not produced:
            return  # the demo or its params are wrong: already reported
        for name in sorted(used - produced - {"n"}):
            template = N_(
                "%(key)s: the demo does not produce a figure %(name)r with these params "
                "(it produces: %(produced)s)"
            )
            self.error(line, template, key=key, name=name, produced=", ".join(sorted(produced)))


def message_of(exc: AppError) -> Message:
    """A refusal of ``app.errors`` (a demo's params) as a ``Message``: its template and
    values, a demo's own check (``problem_msgid``, ``app.demos.base.ParamError``) a
    message of its own, so the whole reads in the reader's language."""
    if len(exc.params) == 1 and "%(field)s" not in exc.template:
        return Message(exc.template)  # a finished message (``AppError._fill``)
    values: dict[str, Value] = {}
    for key, value in exc.params.items():
        if key in ("problem_msgid", "problem_args", "input"):
            continue
        values[key] = (
            value if isinstance(value, str | int) else ("" if value is None else str(value))
        )
    msgid, args = exc.params.get("problem_msgid"), exc.params.get("problem_args")
    if isinstance(msgid, str) and isinstance(args, dict):
        values["problem"] = Message(
            msgid, {k: v if isinstance(v, int) else str(v) for k, v in args.items()}
        )
    return Message(exc.template, values)
