"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable, Mapping
from typing import Any


def median_ms(fn: Callable[[], object], n: int = 5) -> float:
    """The median wall time of ``n`` calls of ``fn``, in milliseconds."""
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """One call of ``fn``: its wall time in milliseconds and its result."""
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def peak_kb(fn: Callable[[], Any]) -> float:
    """tracemalloc's peak over one call of ``fn``, in KB (run it apart from timings: tracing
    slows Python down)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()


def print_two_sizes(title: str, figures: Mapping[int, Mapping[str, float]]) -> None:
    """A table of the same figures at two sizes, one row per figure."""
    small, large = sorted(figures)
    print()
    print(title)
    print(f"{'':28}{small:>14,}{large:>14,}")
    for key in figures[small]:
        print(f"{key:28}{figures[small][key]:>14,.0f}{figures[large][key]:>14,.0f}")
