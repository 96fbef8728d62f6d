"""The figures, computed from raw samples: pure functions, unit-tested on known series."""

from __future__ import annotations

import statistics
from itertools import pairwise


def jitter(rtts_ms: list[float]) -> float | None:
    """Mean absolute difference of consecutive round trips (the variation i-Speed reports)."""
    if len(rtts_ms) < 2:
        return None
    return statistics.fmean(abs(b - a) for a, b in pairwise(rtts_ms))


def goodput_mbps(byte_count: int, seconds: float) -> float:
    if seconds <= 0:
        raise ValueError("the measured time must be positive")
    return byte_count * 8 / seconds / 1e6


def interval_rates(points: list[tuple[float, int]], interval_s: float) -> list[float]:
    """Throughput (Mbit/s) over consecutive fixed intervals of (time, cumulative bytes) points."""
    if len(points) < 2:
        return []
    rates: list[float] = []
    t_start, b_start = points[0]
    for t, b in points[1:]:
        if t - t_start >= interval_s - 1e-6:
            rates.append(goodput_mbps(b - b_start, t - t_start))
            t_start, b_start = t, b
    return rates


def edge_error(samples: list[float]) -> float:
    """How far the figure of a window made of ``samples`` (equal intervals) may be off, relative.

    On a steady line the half-second samples scatter because bytes arrive in bursts and a sample's
    edges cut them (a slow sample is followed by a fast one), not because the rate changes: the
    window's figure carries that error only at its two ends. So the error falls as 1/T, not 1/sqrt(n):
    the samples' relative spread times one sample's share of the window. A line whose rate truly drifts scatters too,
    and is measured for longer, as it should be. Infinite with fewer than three samples."""
    if len(samples) < 3 or statistics.fmean(samples) <= 0:
        return float("inf")
    spread = statistics.stdev(samples) / statistics.fmean(samples)
    return spread / len(samples)
