"""What the demo tests share."""

from __future__ import annotations


class Recorder:
    """A ProgressReporter that keeps every report."""

    def __init__(self) -> None:
        self.reports: list[tuple[int, int, dict[str, float]]] = []

    def __call__(self, step: int, total: int, metrics: dict[str, float]) -> None:
        self.reports.append((step, total, metrics))
