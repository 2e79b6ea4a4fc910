"""The raw baselines: each figure is the median of ``repeat`` measurements."""

from __future__ import annotations

from pathlib import Path

import pytest

from diaspora_stream.bench import baselines


def test_each_baseline_is_the_median_of_its_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Seconds per run: the median (2.0) is what a repeated baseline must report, not the
    # first, the last, the fastest or the mean of the runs.
    tcp_runs = iter([1.0, 4.0, 2.0])
    memcpy_runs = iter([8.0, 2.0, 0.5])
    file_runs = iter([(2.0, 1.0), (1.0, 4.0), (4.0, 2.0)])
    monkeypatch.setattr(baselines, "_tcp", lambda chunk, count: next(tcp_runs))
    monkeypatch.setattr(baselines, "_memcpy", lambda chunk, count: next(memcpy_runs))
    monkeypatch.setattr(baselines, "_file_write_read", lambda d, chunk, count: next(file_runs))

    measured = baselines.measure_baselines(str(tmp_path), 1024, 32 * 2**20, repeat=3)

    at_two_seconds = measured.volume / 2**20 / 2.0
    assert measured.tcp_mb_s == pytest.approx(at_two_seconds)
    assert measured.memcpy_mb_s == pytest.approx(at_two_seconds)
    assert measured.file_write_mb_s == pytest.approx(at_two_seconds)
    assert measured.file_read_mb_s == pytest.approx(at_two_seconds)


def test_a_single_run_measures_every_baseline_for_real(tmp_path: Path) -> None:
    measured = baselines.measure_baselines(str(tmp_path), 64 * 1024, 0)

    assert measured.volume >= baselines.MIN_VOLUME - 64 * 1024
    for rate in (
        measured.tcp_mb_s,
        measured.memcpy_mb_s,
        measured.file_write_mb_s,
        measured.file_read_mb_s,
    ):
        assert rate > 0
    assert list(tmp_path.iterdir()) == []  # the baseline's file is removed


def test_one_tcp_run_moves_the_volume_of_measure_baselines(monkeypatch: pytest.MonkeyPatch) -> None:
    # Benchmarks that alternate the TCP baseline with their own runs get the same chunks and
    # volume (clamped the same way) as measure_baselines, at the rate of that one run.
    moved: list[int] = []

    def timed(chunk: bytes, count: int) -> float:
        moved.append(len(chunk) * count)
        return 0.5

    monkeypatch.setattr(baselines, "_tcp", timed)
    rate = baselines.loopback_tcp_mb_s(2**20, 3 * 2**20)

    assert moved == [baselines.MIN_VOLUME]
    assert rate == pytest.approx(baselines.MIN_VOLUME / 2**20 / 0.5)
