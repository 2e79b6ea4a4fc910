"""The benchmark runs end to end (smoke size) and reports what the issue asks for."""

from __future__ import annotations

from diaspora_stream_mochi import bench


def test_quick_benchmark_reports_every_path_with_same_run_baselines() -> None:
    document = bench.run(quick=True, repeat=1, with_files=False)
    rows = document["results"]
    seen = {(row["path"], row["workload"], row["side"], row["selectivity"]) for row in rows}
    for workload in ("64KiB", "1MiB"):
        for path in ("on-node, file", "on-node, memory", "tcp-stream, file", "tcp-stream, memory"):
            assert (path, workload, "producer", 1.0) in seen
        assert ("on-node, file", workload, "consumer", 0.25) in seen
    assert ("on-node, file", "small", "producer", 1.0) in seen
    for row in rows:
        assert row["events_per_s"] > 0 and row["ratio_tcp"] > 0
        if row["side"] == "consumer":
            # Against loopback TCP measured alternately with the consumer, in the same run.
            assert row["tcp_mb_s"] > 0
            assert row["ratio_tcp"] == row["mb_per_s"] / row["tcp_mb_s"]
    for name, base in document["baselines"].items():
        for key in ("tcp_mb_s", "memcpy_mb_s", "fresh_memory_mb_s", "synced_write_mb_s"):
            assert base[key] > 0, (name, key)
    # The selective consumer fetched a quarter of the data, and the data paths were the ones
    # named: on-node runs moved no byte over the stream and the TCP runs no byte on-node.
    for workload in ("64KiB", "1MiB"):
        consumers = {
            row["selectivity"]: row["fetched_bytes"]
            for row in rows
            if row["workload"] == workload and row["side"] == "consumer"
        }
        assert abs(consumers[0.25] / consumers[1.0] - 0.25) < 0.01
        for row in rows:
            if row["workload"] == workload and row["side"] == "producer":
                on_node = row["path"].startswith("on-node")
                assert (row["bulk_bytes"] == 0) == on_node
                assert (row["shm_bytes"] == 0) != on_node
    assert document["memory_reserve"] == bench.reserve_needed(bench.quick_workloads(), 1)
    assert "| workload | loopback TCP MB/s |" in bench.table(document)


def test_one_workload_can_be_run_alone() -> None:
    document = bench.run(quick=True, repeat=1, with_files=False, only=("small",))

    assert {row["workload"] for row in document["results"]} == {"small"}
    assert set(document["baselines"]) == {"small"}
