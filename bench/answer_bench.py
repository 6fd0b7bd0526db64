"""Benchmark: an answer's HTML, key terms, links and formula count, by the fast path
(``app.content.fast_answer``: markdown-it-pyrs's own HTML writer) and by the reference
(markdown-it-py's tokens), over every answer of a generated bank.

    .venv/bin/python bench/answer_bench.py [--questions 2000]

CPU seconds (``time.process_time``, one core) in the same run; the MathML cache is
cleared before each, so both convert every formula once. The answers are the parser's
(``parse_text``), taken before the timing.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from app.content import render  # noqa: E402
from app.content.fast_answer import fast_answer, reference_answer, render_answer  # noqa: E402
from app.content.parser import parse_text  # noqa: E402


def bank_answers(questions: int) -> list[str]:
    spec = importlib.util.spec_from_file_location(
        "import_bench", REPO_ROOT / "bench/import_bench.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench.generate(folder, questions, 100)
        answers: list[str] = []
        for path in sorted(folder.glob("*.md")):
            parsed = parse_text(path.read_text(encoding="utf-8"), path=path.name)
            answers.extend(q.answer_md for q in parsed.questions)
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=2000)
    args = parser.parse_args()
    answers = bank_answers(args.questions)
    seconds: dict[str, float] = {}
    fallbacks = 0
    for name, fn in (
        ("fast path (None counted)", fast_answer),
        ("render_answer (fast, else reference)", render_answer),
        ("reference (markdown-it-py)", reference_answer),
    ):
        render._mathml.cache_clear()
        start = time.process_time()
        results = [fn(a) for a in answers]
        seconds[name] = time.process_time() - start
        if fn is fast_answer:
            fallbacks = sum(r is None for r in results)
    print(f"{len(answers)} answers ({sum(map(len, answers)) / 1e6:.1f} M characters)")
    for name, spent in seconds.items():
        print(f"  {name:<40} {spent:6.2f} s CPU  {spent / len(answers) * 1e3:6.3f} ms/answer")
    print(f"fallbacks: {fallbacks} of {len(answers)} ({fallbacks / len(answers):.1%})")
    ref = seconds["reference (markdown-it-py)"]
    print(
        f"speed-up of render_answer: {ref / seconds['render_answer (fast, else reference)']:.1f}x"
    )


if __name__ == "__main__":
    main()
