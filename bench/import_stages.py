"""Where a first import's CPU time goes, stage by stage (``bench/import_bench.py``).

The bank is parsed once more on one core, in this process, with the parser's steps
wrapped by a timer that charges each call's CPU time (``time.process_time``) to its own
stage and not to the stage that called it: tokenizing, the token passes before HTML,
HTML rendering, MathML, sanitising (nh3), key terms/links/marks, metadata, and the rest
of the file walk, and pickling the parsed files as a worker process sends them back.
Then the steps in the parent: unpickling, the import plan (names, tags, cross-file
checks), the database writes and the parse cache's write. The floor of a first import
on ``workers`` processes is the parse spread over them plus everything after, which
the parent process does alone.
"""

from __future__ import annotations

import datetime as dt
import pickle
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from markdown_it.renderer import RendererHTML

from app.config import Settings
from app.content import cache as parse_cache
from app.content import importer, loader, parser, render
from app.content.model import ParsedFile
from app.db import make_engine, make_sessionmaker, migrate

PARSE_STAGES = [
    "tokenize",
    "token passes",
    "render HTML",
    "MathML",
    "sanitise (nh3)",
    "key terms, links, marks",
    "metadata",
    "file walk, ids, the rest",
    "pickle (in the worker)",
]
WRITE_STAGES = ["unpickle (in the parent)", "import plan", "DB writes", "parse cache write"]


class _Clock:
    """Exclusive CPU seconds per stage: a call's time less its wrapped callees'."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
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
    (parser, "parse_tokens", "tokenize"),
    (render, "parse_tokens", "tokenize"),
    (render, "parse_inline", "tokenize"),
    (render, "prepare", "token passes"),
    (render, "_leading_math", "token passes"),
    (render, "_carry_marks", "token passes"),
    (render, "_links_and_bold_lines", "token passes"),
    (RendererHTML, "render", "render HTML"),
    (render, "_mathml", "MathML"),
    (render, "sanitize_html", "sanitise (nh3)"),
    (parser, "key_terms", "key terms, links, marks"),
    (parser, "links", "key terms, links, marks"),
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


def breakdown(folder: Path, data_dir: Path) -> dict[str, float]:
    """CPU seconds per stage of a first import of ``folder`` into a fresh database."""
    clock = _Clock()
    render._mathml.cache_clear()  # formulas converted by an earlier import count again
    keyed, _ = loader.discover_keyed([folder], folder)
    with _patched(clock):
        load = clock.wrap("file walk, ids, the rest", loader.load_file)
        files: list[ParsedFile] = [load(path, folder, key) for path, key in keyed.items()]
    with clock.stage("pickle (in the worker)"):
        data = pickle.dumps(files, pickle.HIGHEST_PROTOCOL)
    with clock.stage("unpickle (in the parent)"):
        files = pickle.loads(data)
    engine = make_engine(Settings(data_dir=data_dir, content_dir=folder, database_url=""))
    migrate(engine)
    loaded = dict(zip(keyed, files, strict=True))
    original_load_all, original_store = importer._load_all, parse_cache.store
    importer._load_all = lambda misses, content_dir: [loaded[p] for p in misses]
    parse_cache.store = clock.wrap("parse cache write", original_store)
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            with clock.stage("import plan"):
                report = importer.parse_paths([folder], folder, session=session)
            now = dt.datetime.now(dt.UTC)
            with clock.stage("DB writes"):
                importer.write_parsed(session, report, paths=[folder], content_dir=folder, now=now)
    finally:
        importer._load_all, parse_cache.store = original_load_all, original_store
        engine.dispose()
    clock.seconds["DB writes"] -= clock.seconds["parse cache write"]
    return {stage: clock.seconds[stage] for stage in PARSE_STAGES + WRITE_STAGES}


def print_breakdown(seconds: dict[str, float], workers: int) -> None:
    parse = sum(seconds[s] for s in PARSE_STAGES)
    after = sum(seconds[s] for s in WRITE_STAGES)
    print("first import, CPU seconds by stage (one core, this process):")
    for stage in PARSE_STAGES:
        print(f"  parse: {stage:<28} {seconds[stage]:6.2f} s  {seconds[stage] / parse:4.0%}")
    print(f"  parse, all stages:                  {parse:6.2f} s")
    for stage in WRITE_STAGES:
        print(f"  after: {stage:<28} {seconds[stage]:6.2f} s")
    floor = parse / workers + after
    print(
        f"first-import floor with this code: parse over {workers} processes + the rest in "
        f"the parent = {parse / workers:.2f} + {after:.2f} = {floor:.2f} s  "
        f"(target < 5 s: {'met' if floor < 5 else 'NOT met'})"
    )
