"""Interleaved timing and robust summaries (median and quartiles) of repeated measurements."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Summary:
    """Median and spread of one quantity (seconds, or a ratio). ``q1``/``q3`` are the quartiles."""

    median: float
    q1: float
    q3: float
    min: float
    max: float
    n: int

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    def as_dict(self) -> dict:
        return asdict(self)


def summarize(samples: list[float]) -> Summary:
    if not samples:
        raise ValueError("no samples to summarize")
    ordered = sorted(samples)
    if len(ordered) == 1:
        q1 = q3 = ordered[0]
    else:
        # "inclusive" interpolates between observed values, so quartiles never leave [min, max].
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    return Summary(statistics.median(ordered), q1, q3, ordered[0], ordered[-1], len(ordered))


def interleave(tasks: Mapping[str, Callable[[], object]], rounds: int, warmup: int = 1,
               clock: Callable[[], float] = time.perf_counter) -> dict[str, list[float]]:
    """Time every task once per round, in turn, after ``warmup`` untimed calls each.

    Interleaving spreads slow drift and bursts of load from other processes over all tasks alike, so the
    per-round ratios between tasks stay meaningful on a busy machine. Each round starts one task later
    (A B C, B C A, C A B, ...) so that no task always runs first, just after another's cache-cold start.
    Garbage is collected before each timed call (untimed), so one task does not pay for collecting
    another's garbage (a 1,000-layer spec leaves plenty).
    """
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    for task in tasks.values():
        for _ in range(warmup):
            task()
    samples: dict[str, list[float]] = {name: [] for name in tasks}
    names = list(tasks)
    for round_ in range(rounds):
        for i in range(len(names)):
            name = names[(round_ + i) % len(names)]
            gc.collect()
            start = clock()
            tasks[name]()
            samples[name].append(clock() - start)
    return samples


def paired_ratios(numerator: list[float], denominator: list[float]) -> list[float]:
    """Per-round ratios of two interleaved series (round i of one against round i of the other)."""
    if len(numerator) != len(denominator):
        raise ValueError("paired series must have the same length")
    return [a / b for a, b in zip(numerator, denominator, strict=True)]


def timing(samples: list[float]) -> dict:
    """The JSON form of a timed series: its summary plus the raw samples (seconds)."""
    return {**summarize(samples).as_dict(), "samples": samples}
