"""The kafka benchmark runs (a tiny workload; its figures are not checked)."""

from __future__ import annotations

from typing import Any

from diaspora_stream.bench.roundtrip import Workload

from diaspora_stream_kafka.bench import format_results, run_workload


def test_the_benchmark_times_every_side(options: dict[str, Any]) -> None:
    result = run_workload(options, Workload("tiny", 64, 16, 40), repeat=2, chunk=16)
    for side in (result.ours, result.batch, result.raw):
        assert side.produce > 0 and side.consume > 0
    assert result.reported.produce > 0 and result.reported.produce_cpu > 0
    assert set(result.ratios) == {
        f"{side}_{what}"
        for side in ("ours", "batch")
        for what in ("produce", "consume", "produce_cpu", "consume_cpu")
    } | {"raw_reported_produce", "raw_reported_produce_cpu"}
    table = format_results([result], repeat=2, chunk=16)
    assert "push_many, pull_many" in table and "| tiny |" in table
    assert "raw + per-record delivery callback (diagnostic)" in table
