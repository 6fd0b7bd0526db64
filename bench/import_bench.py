"""Benchmark: parse + import a generated bank of 10,000 questions into a fresh SQLite
database, then re-import the same files. Prints questions per second for each.

    .venv/bin/python bench/import_bench.py [--questions 10000] [--per-file 100]

The bank reuses the seed's answers (so questions are as long as real ones) and mixes in
the format's sloppy variants. Target (issue 2): the 10,000-question import in under 5 s
on a 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from app.config import Settings  # noqa: E402
from app.content.importer import import_paths  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--per-file", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "content"
        folder.mkdir()
        generate(folder, args.questions, args.per_file)
        size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        settings = Settings(data_dir=Path(tmp) / "data", content_dir=folder, database_url="")
        first, count = timed_import(settings, folder)
        again, _ = timed_import(settings, folder)
        print(f"bank: {count} questions in {args.questions // args.per_file} files, {size:.1f} MB")
        print(f"first import (parse + write): {first:6.2f} s  {count / first:8.0f} questions/s")
        print(f"re-import (unchanged files):  {again:6.2f} s  {count / again:8.0f} questions/s")
        print(f"target: first import under 5 s -> {'met' if first < 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
