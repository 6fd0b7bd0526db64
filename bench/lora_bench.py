"""Benchmark: the wall time of each demo's default run (LoRA, rank, and the PEFT parameter
count demo when it is importable), so the time bound of issue 6 is measured here rather
than asserted in tests.

    .venv/bin/python bench/lora_bench.py [--repeats 3] [--device cpu]

Each demo runs in this process with its default parameters; the first repeat includes
torch's warm-up (thread pool, first kernels), so the median of several is the steady
figure and the first is what a fresh worker sees.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from app.demos import lora, rank  # noqa: E402
from app.demos.base import Demo, RunContext, validate_params  # noqa: E402

# Where the PEFT parameter-count demo may live; it is optional for this benchmark.
PEFT_MODULES = ("app.demos.peft_count", "app.demos.peft_count.demo", "app.demos.peft_params")


def peft_demo() -> Demo | None:
    for name in PEFT_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        demo = getattr(module, "DEMO", None)
        if isinstance(demo, Demo):
            return demo
    return None


def time_run(demo: Demo, device: str) -> float:
    params = validate_params(demo, {})
    start = time.perf_counter()
    result = demo.run(params, RunContext(device=device, report=lambda step, total, m: None))
    elapsed = time.perf_counter() - start
    failed = [check.name for check in result.checks if not check.passed]
    if failed:
        print(f"  {demo.name}: failed checks {failed}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()

    import torch  # after parsing, so --help stays fast

    demos = [lora.DEMO, rank.DEMO]
    peft = peft_demo()
    if peft is None:
        print("PEFT parameter-count demo not importable; skipped")
    else:
        demos.append(peft)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    print(f"{'demo':<12} {'first s':>8} {'median s':>9} {'limit s':>8}")
    for demo in demos:
        times = [time_run(demo, args.device) for _ in range(args.repeats)]
        verdict = "ok" if max(times) <= demo.time_limit_s else "OVER LIMIT"
        print(
            f"{demo.name:<12} {times[0]:>8.2f} {statistics.median(times):>9.2f} "
            f"{demo.time_limit_s:>8.0f}  {verdict}"
        )


if __name__ == "__main__":
    main()
