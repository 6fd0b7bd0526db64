"""Benchmark: parse + import a generated bank of 10,000 questions into a fresh SQLite
database, then re-import the same files; and the tokenizer's own floor.

    .venv/bin/python bench/import_bench.py [--questions 10000] [--per-file 100] [--no-floor]

The bank reuses the seed's answers (so questions are as long as real ones) and mixes in
the format's sloppy variants. Targets (issues 2 and 19): the first import of 10,000
questions in under 5 s on a 2-core machine; a re-import of unchanged files (what every
``serve`` start does) in under 1 s. The floor is the CPU time of tokenizing the whole
bank once, on one core, and spread over this machine's cores: markdown-it-py alone, and
the tokenizer the import uses (``app.content.rs_tokens``: markdown-it-pyrs, with
markdown-it-py for dollar math). The load average is printed because a busy machine
stretches every figure.

The first import's breakdown: the bank is parsed once more on one core, in this
process, with the parser's steps wrapped by a timer that charges each call's CPU time
(``time.process_time``) to its own stage and not to the stage that called it; then the
steps the parent process does alone (unpickling, the import plan, the database writes,
the search index, the parse cache, the commit). The floor of a first import on N
processes is the parse spread over them plus everything after. Each timed import also
prints its CPU seconds (this process, and the parse workers it started), which a busy
machine stretches less than the wall time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pickle
import random
import re
import resource
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from markdown_it.renderer import RendererHTML

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from app.config import Settings  # noqa: E402
from app.content import (  # noqa: E402
    answer_render,
    bulk,
    fast_answer,
    importer,
    loader,
    parser,
    render,
    rows,
)
from app.content import cache as parse_cache  # noqa: E402
from app.content.importer import import_paths  # noqa: E402
from app.content.markdown import markdown_parser  # noqa: E402
from app.content.model import ParsedFile  # noqa: E402
from app.content.outline import parse_outline  # noqa: E402
from app.content.rs_tokens import available, parse_tokens  # noqa: E402
from app.db import make_engine, make_sessionmaker, migrate  # noqa: E402

COMPANIES = ["美团", "阿里", "阿里国际", "快手", "淘天", "同花顺", "字节跳动", "腾讯", "None"]
ROLES = ["算法工程师", "大模型算法工程师", "Agent智能体", "后端开发"]
STAGES = ["一面", "二面", "三面", "HR面", "终面"]
TAGS = [
    "LoRA",
    "LORA",
    "PEFT",
    "QLoRA",
    "QLORA",
    "RLHF",
    "SFT",
    "MLA",
    "参数高效微调",
    "训练稳定性",
]


def seed_answers() -> list[str]:
    text = (REPO_ROOT / "content" / "llm-sft.md").read_text(encoding="utf-8")
    blocks = re.split(r"^### Q\..*\n.*\n", text, flags=re.MULTILINE)[1:]
    return [re.split(r"^## ", b, flags=re.MULTILINE)[0].strip() for b in blocks]


def metadata(rng: random.Random) -> str:
    sep = rng.choice([" | ", " ｜ ", "  ", " | "])
    date = f"2025-{rng.randint(1, 12)}-{rng.randint(1, 28)}"
    tags = ", ".join(rng.sample(TAGS, 3))
    line = (
        f"**Company**: {rng.choice(COMPANIES)}{sep}**Round**: {rng.choice(ROLES)} "
        f"{rng.choice(STAGES)}{sep}**Date**: {date}{sep}**Tags**: [{tags}]"
    )
    return rng.choice(["> ", "", "\n> "]) + line


def question(rng: random.Random, n: int, answer: str) -> str:
    heading = (
        rng.choice(["### Q. ", "### Q.", "### Q ", "### ### Q. "]) + f"第 {n} 题：{answer[:12]}"
    )
    if "<mark>" in answer and rng.random() < 0.1:
        answer = answer.replace("</mark>", "<mark>")  # closed by a second <mark>
    if rng.random() < 0.05:
        answer += "\n\n```markdown\n### Q. 代码里的不是问题\n```"
    return f"{heading}\n{metadata(rng)}\n\n{answer}\n"


def generate(folder: Path, total: int, per_file: int) -> None:
    rng = random.Random(0)
    answers = seed_answers()
    n = 0
    for f in range(0, total, per_file):
        parts = [f"# 第 {f // per_file} 章\n> 生成的章节\n"]
        for i in range(min(per_file, total - f)):
            if i % 10 == 0:
                parts.append(f"## {i // 10 + 1}. [小节 {i}]((https://example.com/{i}))\n")
            parts.append(question(rng, n, answers[n % len(answers)]))
            n += 1
        (folder / f"chapter-{f // per_file:04d}.md").write_text("\n".join(parts), encoding="utf-8")


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process and of its ended children (the parse workers)."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def timed_import(settings: Settings, folder: Path) -> tuple[float, int, str]:
    """Wall seconds, questions, and the CPU it took (parent + workers) as text."""
    engine = make_engine(settings)
    migrate(engine)
    factory = make_sessionmaker(engine)
    own, children = _cpu()
    start = time.perf_counter()
    with factory() as session, session.begin():
        report = import_paths(
            session, paths=[folder], content_dir=folder, now=dt.datetime.now(dt.UTC)
        )
    elapsed = time.perf_counter() - start
    own_after, children_after = _cpu()
    engine.dispose()
    assert report.ok, report.errors[:5]
    cpu = f"CPU {own_after - own:.2f} s parent + {children_after - children:.2f} s workers"
    return elapsed, len(report.questions), cpu


# Dollar math as a regex finds it (close to, not exactly, the dollarmath plugin's rules):
# only for the token-free render floor below.
_MATH = re.compile(r"\$\$.+?\$\$|\$(?=\S)[^$\n]+?(?<=\S)\$(?!\d)", re.DOTALL)
_HELD = re.compile(r"MATHHELD(\d+)X")


def _rust_render(text: str) -> str:
    """The bank's HTML with no markdown-it-py token at all: math held out by ``_MATH``,
    markdown-it-pyrs's own HTML writer, the math put back, nh3's sanitiser. Not the
    import's output (no marks, key terms, MathML, cells' alignment): a lower bound of
    what any parser that writes sanitised HTML from this bank costs with these tools."""
    import nh3
    from markdown_it_pyrs import MarkdownIt as RustMarkdownIt

    held: list[str] = []

    def hold(match: re.Match[str]) -> str:
        held.append(match.group(0))
        return f"MATHHELD{len(held) - 1}X"

    rust = RustMarkdownIt("commonmark").enable_many(["table", "html_block", "html_inline"])
    html = rust.render(_MATH.sub(hold, text))
    return str(nh3.clean(_HELD.sub(lambda m: held[int(m.group(1))], html)))


def tokenizer_seconds(folder: Path) -> dict[str, float]:
    """CPU seconds (one core) to read every file once: markdown-it-py's tokens (what the
    import once built for every file), markdown-it-pyrs's tokens (what it built before the
    outline), the outline it reads now, and a render with no tokens (``_rust_render``:
    the floor of any parser writing HTML with these tools)."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())]
    md = markdown_parser()
    tokenizers: dict[str, Callable[[str], object]] = {
        "tokens, markdown-it-py": lambda t: md.parse(t)
    }
    if available():
        tokenizers["tokens, markdown-it-pyrs + markdown-it-py for math"] = parse_tokens
        tokenizers["outline (the file parser's blocks, markdown-it-pyrs)"] = parse_outline
        tokenizers["render, no tokens: markdown-it-pyrs's HTML + math held out + nh3"] = (
            _rust_render
        )
    seconds = {}
    for name, tokenize in tokenizers.items():
        start = time.process_time()
        for text in texts:
            tokenize(text)
        seconds[name] = time.process_time() - start
    return seconds


PARSE_STAGES = [
    "outline (file structure)",
    "fast answers (Rust HTML, passes)",
    "tokenize (where the fast path declines)",
    "tokenize",
    "token passes",
    "render HTML",
    "MathML",
    "sanitise (nh3)",
    "key terms, links, marks",
    "metadata",
    "file walk, ids, the rest",
    "content hash, search text",
    "parse-cache payload (JSON, zstd)",
    "pickle (in the worker)",
]
WRITE_STAGES = [
    "unpickle (in the parent)",
    "import plan",
    "DB writes",
    "search index (one statement)",
    "parse cache write",
    "commit",
]


class _Clock:
    """Exclusive CPU seconds per stage: a call's time less its wrapped callees'."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self._stack: list[float] = []  # child time of each open call

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            self._stack.append(0.0)
            try:
                return fn(*args, **kwargs)
            finally:
                children = self._stack.pop()
                spent = time.process_time() - start
                self.seconds[label] += spent - children
                if self._stack:
                    self._stack[-1] += spent

        return timed

    @contextmanager
    def stage(self, label: str) -> Iterator[None]:
        start = time.process_time()
        try:
            yield
        finally:
            self.seconds[label] += time.process_time() - start


_PATCHES: list[tuple[object, str, str]] = [
    (parser, "parse_outline", "outline (file structure)"),
    (answer_render, "fast_answer", "fast answers (Rust HTML, passes)"),
    (fast_answer, "key_terms", "key terms, links, marks"),
    (fast_answer, "links", "key terms, links, marks"),
    (fast_answer, "_mathml", "MathML"),
    (fast_answer, "sanitize_html", "sanitise (nh3)"),
    (answer_render, "parse_tokens", "tokenize (where the fast path declines)"),
    (render, "parse_tokens", "tokenize"),
    (render, "parse_inline", "tokenize"),
    (render, "prepare", "token passes"),
    (render, "_leading_math", "token passes"),
    (render, "_carry_marks", "token passes"),
    (render, "_links_and_bold_lines", "token passes"),
    (RendererHTML, "render", "render HTML"),
    (render, "_mathml", "MathML"),
    (render, "sanitize_html", "sanitise (nh3)"),
    (answer_render, "key_terms", "key terms, links, marks"),
    (answer_render, "links", "key terms, links, marks"),
    (parser, "marks", "key terms, links, marks"),
    (parser, "plain", "key terms, links, marks"),
    (parser, "parse_metadata_line", "metadata"),
    (parser, "looks_like_metadata", "metadata"),
]


@contextmanager
def _patched(clock: _Clock) -> Iterator[None]:
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in _PATCHES]
    try:
        for owner, name, label in _PATCHES:
            setattr(owner, name, clock.wrap(label, getattr(owner, name)))
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def _counted(formulas: list[tuple[str, bool]], convert: Any) -> Any:
    def counting(tex: str, display: bool) -> str:
        formulas.append((tex, display))
        return convert(tex, display)  # type: ignore[no-any-return]

    return counting


def distinct_formulas_cost(formulas: list[tuple[str, bool]]) -> str:
    """The bank reuses the seed's answers, so its formulas repeat and ``render._mathml``'s
    cache converts each once: what converting every formula would cost (a bank of 10,000
    questions written by hand repeats some formulas, far from all)."""
    distinct = set(formulas)
    start = time.process_time()
    for tex, display in distinct:
        render._mathml.__wrapped__(tex, display)
    each = (time.process_time() - start) / max(1, len(distinct))
    return (
        f"MathML: {len(formulas)} formulas, {len(distinct)} distinct; "
        f"{each * 1000:.3f} ms to convert one, so +{each * len(formulas):.2f} CPU-s "
        f"for the parse if every formula were distinct"
    )


def breakdown(folder: Path, data_dir: Path) -> tuple[dict[str, float], str]:
    """CPU seconds per stage of a first import of ``folder`` into a fresh database, and
    ``distinct_formulas_cost``."""
    clock = _Clock()
    render._mathml.cache_clear()  # formulas converted by an earlier import count again
    keyed, _ = loader.discover_keyed([folder], folder)
    formulas: list[tuple[str, bool]] = []
    converters = [(module, "_mathml") for module in (fast_answer, render)]
    saved = [getattr(owner, name) for owner, name in converters]
    for owner, name in converters:
        setattr(owner, name, _counted(formulas, getattr(owner, name)))
    try:
        files = _parse_timed(clock, folder, keyed)
    finally:
        for (owner, name), original in zip(converters, saved, strict=True):
            setattr(owner, name, original)
    return _write_timed(clock, folder, data_dir, keyed, files), distinct_formulas_cost(formulas)


Loaded = list[tuple[ParsedFile, bytes | None]]


def _parse_timed(clock: _Clock, folder: Path, keyed: dict[Path, str]) -> Loaded:
    with _patched(clock):
        load = clock.wrap("file walk, ids, the rest", loader.load_file)
        precompute = clock.wrap("content hash, search text", rows.precompute)
        encode = clock.wrap("parse-cache payload (JSON, zstd)", parse_cache.encode)
        files: Loaded = []
        for path, key in keyed.items():
            parsed_file = precompute(load(path, folder, key))
            files.append((parsed_file, encode(parsed_file)))
    with clock.stage("pickle (in the worker)"):
        data = pickle.dumps(files, pickle.HIGHEST_PROTOCOL)
    with clock.stage("unpickle (in the parent)"):
        loaded: Loaded = pickle.loads(data)
    return loaded


def _write_timed(
    clock: _Clock, folder: Path, data_dir: Path, keyed: dict[Path, str], files: Loaded
) -> dict[str, float]:
    engine = make_engine(Settings(data_dir=data_dir, content_dir=folder, database_url=""))
    migrate(engine)
    loaded = dict(zip(keyed, files, strict=True))
    original_load_all, original_store = importer._load_all, parse_cache.store
    original_finish = bulk.BulkWrite._finish

    def already_loaded(files: Mapping[Path, str], content_dir: Path, *, encode: bool) -> Loaded:
        return [loaded[p] for p in files]

    importer._load_all = already_loaded
    parse_cache.store = clock.wrap("parse cache write", original_store)
    bulk.BulkWrite._finish = clock.wrap("search index (one statement)", original_finish)  # type: ignore[method-assign]
    try:
        with make_sessionmaker(engine)() as session:
            session.begin()
            with clock.stage("import plan"):
                report = importer.parse_paths([folder], folder, session=session)
            now = dt.datetime.now(dt.UTC)
            with clock.stage("DB writes"):
                importer.write_parsed(session, report, paths=[folder], content_dir=folder, now=now)
            with clock.stage("commit"):
                session.commit()
    finally:
        importer._load_all, parse_cache.store = original_load_all, original_store
        bulk.BulkWrite._finish = original_finish  # type: ignore[method-assign]
        engine.dispose()
    for inside in ("parse cache write", "search index (one statement)"):
        clock.seconds["DB writes"] -= clock.seconds[inside]
    return {stage: clock.seconds[stage] for stage in PARSE_STAGES + WRITE_STAGES}


def print_breakdown(seconds: dict[str, float], workers: int) -> None:
    parse = sum(seconds[s] for s in PARSE_STAGES)
    after = sum(seconds[s] for s in WRITE_STAGES)
    print("first import, CPU seconds by stage (one core, this process):")
    for stage in PARSE_STAGES:
        print(f"  parse: {stage:<40} {seconds[stage]:6.2f} s  {seconds[stage] / parse:4.0%}")
    print(f"  parse, all stages:                              {parse:6.2f} s")
    for stage in WRITE_STAGES:
        print(f"  after: {stage:<40} {seconds[stage]:6.2f} s")
    floor = parse / workers + after
    print(
        f"first-import floor with this code: parse over {workers} processes + the rest in "
        f"the parent = {parse / workers:.2f} + {after:.2f} = {floor:.2f} s  "
        f"(target < 5 s: {'met' if floor < 5 else 'NOT met'})"
    )


def verdict(seconds: float, target: float) -> str:
    return f"target < {target:g} s: {'met' if seconds < target else 'NOT met'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--no-floor", action="store_true", help="skip the tokenizer floor")
    parser.add_argument(
        "--no-stages", action="store_true", help="skip the first import's breakdown by stage"
    )
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    workers = min(cores, 4)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "content"
        folder.mkdir()
        generate(folder, args.questions, args.per_file)
        size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        settings = Settings(data_dir=Path(tmp) / "data", content_dir=folder, database_url="")
        load_before = os.getloadavg()[0]
        first, count, first_cpu = timed_import(settings, folder)
        again, _, again_cpu = timed_import(settings, folder)
        floors = {} if args.no_floor else tokenizer_seconds(folder)
        stages, formulas = ({}, "") if args.no_stages else breakdown(folder, Path(tmp) / "stages")
        print(
            f"machine: {cores} cores, load average {load_before:.1f} before / "
            f"{os.getloadavg()[0]:.1f} after (a busy machine stretches every figure)"
        )
        print(f"bank: {count} questions in {args.questions // args.per_file} files, {size:.1f} MB")
        print(
            f"first import (parse + write): {first:6.2f} s  {count / first:8.0f} questions/s  "
            + verdict(first, 5)
            + f"  ({first_cpu})"
        )
        print(
            f"re-import (unchanged files):  {again:6.2f} s  {count / again:8.0f} questions/s  "
            + verdict(again, 1)
            + f"  ({again_cpu})"
        )
        for name, seconds in floors.items():
            spread = seconds / workers
            print(
                f"floor, {name}: {seconds:6.2f} s on one core, "
                f"{spread:.2f} s over {workers} processes  {verdict(spread, 5)}"
            )
        if stages:
            print_breakdown(stages, workers)
            print(formulas)


if __name__ == "__main__":
    main()
