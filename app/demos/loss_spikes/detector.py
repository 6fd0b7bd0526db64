"""The spike detector: a loss above k times the running median of the previous losses,
or NaN/inf. No torch here."""

from __future__ import annotations

import math
import statistics
from collections import deque

from app.demos.loss_spikes.params import MIN_HISTORY


class SpikeDetector:
    """Flags a loss that is NaN/inf, or above ``k`` × the median of the previous
    ``window`` finite losses (once ``MIN_HISTORY`` of them exist)."""

    def __init__(self, k: float, window: int) -> None:
        self.k = k
        self.history: deque[float] = deque(maxlen=window)

    def threshold(self) -> float:
        """The loss above which the next step is a spike (inf while history is short)."""
        if len(self.history) < MIN_HISTORY:
            return math.inf
        return self.k * statistics.median(self.history)

    def observe(self, loss: float) -> bool:
        if not math.isfinite(loss):
            return True
        spike = loss > self.threshold()
        # A flagged loss still enters the window: the median shrugs off one outlier, and a
        # loss that stays high becomes the new normal instead of being skipped forever.
        self.history.append(loss)
        return spike


def flag_spikes(losses: list[float], k: float, window: int) -> list[bool]:
    detector = SpikeDetector(k, window)
    return [detector.observe(loss) for loss in losses]


def running_medians(losses: list[float], window: int) -> list[float | None]:
    """The median of the previous ``window`` finite losses at each step (None while
    fewer than MIN_HISTORY exist): what SpikeDetector multiplies by k."""
    medians: list[float | None] = []
    history: list[float] = []
    for loss in losses:
        recent = history[-window:]
        medians.append(statistics.median(recent) if len(recent) >= MIN_HISTORY else None)
        if math.isfinite(loss):
            history.append(loss)
    return medians
