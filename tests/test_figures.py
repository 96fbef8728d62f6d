"""The figures on known sample series."""

from __future__ import annotations

import math

import pytest

from dokiem.agent.probes.figures import edge_error, goodput_mbps, interval_rates, jitter
from dokiem.agent.probes.http import SpeedSettings, figure_known, streams_for


def test_jitter_is_mean_absolute_difference_of_consecutive_rtts() -> None:
    assert jitter([10.0, 12.0, 11.0, 15.0]) == pytest.approx((2 + 1 + 4) / 3)


def test_jitter_of_a_constant_series_is_zero_and_of_one_sample_is_unknown() -> None:
    assert jitter([5.0] * 10) == 0.0
    assert jitter([5.0]) is None
    assert jitter([]) is None


def test_goodput_is_bits_over_seconds() -> None:
    assert goodput_mbps(125_000_000, 1.0) == pytest.approx(1000.0)
    assert goodput_mbps(1_250_000, 2.0) == pytest.approx(5.0)


def test_goodput_refuses_a_zero_window() -> None:
    with pytest.raises(ValueError):
        goodput_mbps(100, 0.0)


def test_interval_rates_from_cumulative_counters() -> None:
    # 0.1 s ticks; 1 MB per tick for the first 0.5 s, then 2 MB per tick.
    points = [(i / 10, 1_000_000 * i if i <= 5 else 5_000_000 + 2_000_000 * (i - 5)) for i in range(11)]
    rates = interval_rates(points, 0.5)
    assert rates == pytest.approx([80.0, 160.0])


def test_interval_rates_need_two_points() -> None:
    assert interval_rates([(0.0, 0)], 0.5) == []


def test_edge_error_is_the_spread_over_the_window_length() -> None:
    assert edge_error([100.0, 100.0, 100.0]) == 0.0
    assert math.isinf(edge_error([100.0, 90.0]))
    four = edge_error([90.0, 100.0, 110.0, 100.0])
    assert four == pytest.approx(0.081650 / 4, rel=1e-3)  # spread 8.2%, a window of four samples
    assert edge_error([90.0, 100.0, 110.0, 100.0] * 2) == pytest.approx(0.075593 / 8, rel=1e-3)


def test_a_steady_window_is_known_and_one_ending_in_a_stall_is_not() -> None:
    steady = [95.5, 95.7, 95.6, 95.6]
    assert figure_known(steady, SpeedSettings())
    assert not figure_known([*steady, 60.0], SpeedSettings())  # a lost segment held bytes back at the end
    assert not figure_known([*steady, 60.0, 131.0], SpeedSettings())  # and the burst that follows
    bursty = [9.5, 6.7, 12.1, 9.5, 9.6, 9.4]  # 20% spread: 3 s is not enough for 1%
    assert not figure_known(bursty, SpeedSettings())
    assert figure_known(bursty * 4, SpeedSettings())  # 12 s are


@pytest.mark.parametrize(("rate", "expected"), [(5, 2), (24.9, 2), (100, 4), (300, 6), (950, 6)])
def test_streams_adapt_to_the_line(rate: float, expected: int) -> None:
    assert streams_for(rate, SpeedSettings()) == expected


def test_streams_stay_within_settings() -> None:
    assert streams_for(950, SpeedSettings(max_streams=3)) == 3
    assert streams_for(1, SpeedSettings(initial_streams=4)) == 4


def test_longer_measurements_get_a_longer_phase_budget() -> None:
    assert SpeedSettings.for_max_seconds(9).phase_budget_s == SpeedSettings().phase_budget_s
    long = SpeedSettings.for_max_seconds(60)
    assert long.measure_max_s == 60 and long.phase_budget_s > long.warmup_max_s + 60
    assert SpeedSettings.for_max_seconds(1.5).measure_min_s == 1.5  # never a floor above the cap
