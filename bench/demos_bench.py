"""Benchmark: the wall time of every demo's default run against its time limit, so the
demos' time bounds are measured here rather than asserted in tests.

    .venv/bin/python bench/demos_bench.py [--repeats 3] [--device cpu] [--demo NAME ...]

Each demo runs in this process with its default parameters; the first repeat includes
torch's warm-up (thread pool, first kernels), so the median of several is the steady
figure and the first is what a fresh worker sees.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from app.content.answers import demo_inputs  # noqa: E402
from app.demos import registry  # noqa: E402
from app.demos.base import Demo, RunContext, validate_params  # noqa: E402


def time_run(demo: Demo, device: str) -> float:
    params = validate_params(demo, {})
    start = time.perf_counter()
    ctx = RunContext(
        device=device, report=lambda step, total, m: None, inputs=demo_inputs(demo.inputs)
    )
    result = demo.run(params, ctx)
    elapsed = time.perf_counter() - start
    failed = [check.name for check in result.checks if not check.passed]
    if failed:
        print(f"  {demo.name}: checks not passed {failed}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--demo", action="append", help="only these demos (repeatable)")
    args = parser.parse_args()

    import torch  # after parsing, so --help stays fast

    demos = [d for name, d in registry().items() if not args.demo or name in args.demo]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    print(f"{'demo':<14} {'first s':>8} {'median s':>9} {'limit s':>8}  share of limit")
    for demo in demos:
        times = [time_run(demo, args.device) for _ in range(args.repeats)]
        share = max(times) / demo.time_limit_s
        verdict = "ok" if share <= 1 else "OVER LIMIT"
        print(
            f"{demo.name:<14} {times[0]:>8.2f} {statistics.median(times):>9.2f} "
            f"{demo.time_limit_s:>8.0f}  {share:>6.1%} {verdict}"
        )


if __name__ == "__main__":
    main()
