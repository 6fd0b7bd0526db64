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
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from markdown_it.token import Token

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from app.config import Settings  # noqa: E402
from app.content.importer import import_paths  # noqa: E402
from app.content.markdown import markdown_parser  # noqa: E402
from app.content.rs_tokens import available, parse_tokens  # noqa: E402
from app.db import make_engine, make_sessionmaker, migrate  # noqa: E402
from bench.import_stages import breakdown, print_breakdown  # noqa: E402

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


def timed_import(settings: Settings, folder: Path) -> tuple[float, int]:
    engine = make_engine(settings)
    migrate(engine)
    factory = make_sessionmaker(engine)
    start = time.perf_counter()
    with factory() as session, session.begin():
        report = import_paths(
            session, paths=[folder], content_dir=folder, now=dt.datetime.now(dt.UTC)
        )
    elapsed = time.perf_counter() - start
    engine.dispose()
    assert report.ok, report.errors[:5]
    return elapsed, len(report.questions)


def tokenizer_seconds(folder: Path) -> dict[str, float]:
    """CPU seconds (one core) to tokenize every file once, by each tokenizer."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())]
    md = markdown_parser()
    tokenizers: dict[str, Callable[[str], list[Token]]] = {"markdown-it-py": lambda t: md.parse(t)}
    if available():
        tokenizers["markdown-it-pyrs + markdown-it-py for math"] = parse_tokens
    seconds = {}
    for name, tokenize in tokenizers.items():
        start = time.process_time()
        for text in texts:
            tokenize(text)
        seconds[name] = time.process_time() - start
    return seconds


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
        first, count = timed_import(settings, folder)
        again, _ = timed_import(settings, folder)
        floors = {} if args.no_floor else tokenizer_seconds(folder)
        stages = {} if args.no_stages else breakdown(folder, Path(tmp) / "stages")
        print(
            f"machine: {cores} cores, load average {load_before:.1f} before / "
            f"{os.getloadavg()[0]:.1f} after (a busy machine stretches every figure)"
        )
        print(f"bank: {count} questions in {args.questions // args.per_file} files, {size:.1f} MB")
        print(
            f"first import (parse + write): {first:6.2f} s  {count / first:8.0f} questions/s  "
            + verdict(first, 5)
        )
        print(
            f"re-import (unchanged files):  {again:6.2f} s  {count / again:8.0f} questions/s  "
            + verdict(again, 1)
        )
        for name, seconds in floors.items():
            spread = seconds / workers
            print(
                f"tokenizer floor, {name}: {seconds:6.2f} s on one core, "
                f"{spread:.2f} s over {workers} processes  {verdict(spread, 5)}"
            )
        if stages:
            print_breakdown(stages, workers)


if __name__ == "__main__":
    main()
