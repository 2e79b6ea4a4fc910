"""``python -m diaspora_stream.bench.scaling``: its options, a tiny run end to end (JSON shape,
plots, nothing left behind), and the pieces it is made of. No figure is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from diaspora_stream.api import Driver
from diaspora_stream.bench.scaling.cli import QUICK_EVENTS, parse_arguments
from diaspora_stream.bench.scaling.latency import acknowledge_middle
from diaspora_stream.bench.scaling.launch import ProbeFailed, run_probe, run_producers
from diaspora_stream.bench.scaling.plots import PLOTS, draw_plots
from diaspora_stream.bench.scaling.rss import current_rss, peak_rss
from diaspora_stream.bench.scaling.throughput import shares

COMMITTED_RUN = Path(__file__).resolve().parents[2] / "docs" / "bench-run" / "scaling.json"
COMMAND = (sys.executable, "-m", "diaspora_stream.bench.scaling")


def test_defaults_measure_the_issue_sizes_on_files() -> None:
    settings, args = parse_arguments([])
    assert settings.backend == "files"
    assert settings.options == {"root_path": "{tmp}"}
    assert settings.partitions == (1, 4, 16, 64)
    assert settings.processes == (1, 2, 4)
    assert settings.latency_sizes == (10**4, 10**5, 10**6, 10**7)
    assert settings.memory_sizes == (10**4, 10**5, 10**6)
    assert settings.repeat == 3
    assert args.only is None and args.json is None and args.plots is None


def test_other_backends_get_no_default_options() -> None:
    settings, _ = parse_arguments(["--backend", "kafka"])
    assert settings.options == {}


def test_quick_caps_every_size_at_ten_to_the_fifth() -> None:
    settings, _ = parse_arguments(["--quick"])
    assert settings.events == QUICK_EVENTS
    assert settings.latency_sizes == (10**4, 10**5)
    assert settings.memory_sizes == (10**4, 10**5)


def test_max_events_caps_both_lists_and_stands_in_when_none_is_left() -> None:
    settings, _ = parse_arguments(["--max-events", "10^6"])
    assert settings.latency_sizes == (10**4, 10**5, 10**6)
    settings, _ = parse_arguments(["--max-events", "1000"])
    assert settings.latency_sizes == (1000,) and settings.memory_sizes == (1000,)


@pytest.mark.parametrize("text", ["10000", "10_000", "1e4", "10^4"])
def test_counts_are_written_in_several_ways(text: str) -> None:
    settings, _ = parse_arguments(["--sizes", f"{text},100", "--events", text])
    assert settings.latency_sizes == (100, 10_000)
    assert settings.events == 10_000


@pytest.mark.parametrize(
    "arguments",
    [
        ["--sizes", "0"],
        ["--sizes", "1"],  # no event after the middle one to resume at
        ["--events", "2.5"],
        ["--events", "1.5e0"],
        ["--partitions", ""],
        ["--repeat", "many"],
        ["--backend-options", "[1]"],
        ["--only", "everything"],
    ],
)
def test_bad_arguments_are_usage_errors(arguments: list[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_arguments(arguments)
    assert stopped.value.code == 2


def test_events_are_shared_between_processes() -> None:
    assert shares(10, 1) == [10]
    assert shares(10, 4) == [3, 3, 2, 2]
    assert sum(shares(200_001, 3)) == 200_001


def _tiny_run(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    root = tmp_path / "root"
    root.mkdir()
    completed = subprocess.run(
        [
            *COMMAND,
            *("--repeat", "1", "--events", "1000", "--partitions", "1,2", "--processes", "1,2"),
            *("--sizes", "1000", "--memory-sizes", "500,1000", "--chunk", "256"),
            *("--root", str(root), "--json", "out.json", "--plots", "plots", *extra),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return completed, root


def test_a_tiny_run_writes_every_section_and_leaves_nothing_behind(tmp_path: Path) -> None:
    completed, root = _tiny_run(tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert list(root.iterdir()) == [], "the temporary directory was not removed"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.json", "plots", "root"]
    document: dict[str, Any] = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert document["benchmark"] == "scaling" and document["backend"] == "files"
    assert document["options"] == {"root_path": "{tmp}"}

    throughput = document["throughput"]
    cases = {(row["partitions"], row["processes"]) for row in throughput["rows"]}
    assert cases == {(1, 1), (2, 1), (1, 2)}
    assert throughput["events"] == 1000
    for row in throughput["rows"]:
        assert len(row["runs_s"]) == len(row["runs_cpu_s"]) == 1
        assert row["events_per_s"] > 0 and row["mb_per_s"] > 0 and row["events_per_cpu_s"] > 0

    (latency,) = document["latency"]["rows"]
    assert latency["events"] == 1000 and latency["resumed_after"] == 499
    assert len(latency["open_runs_ms"]) == len(latency["resume_runs_ms"]) == 1
    assert set(latency["open_parts_ms"]) == {"driver_s", "open_s", "consumer_s", "pull_s"}
    for key in ("open", "resume"):
        assert latency[f"{key}_ms"] > latency[f"{key}_topic_ms"] > 0
        assert latency[f"{key}_cpu_ms"] >= latency[f"{key}_topic_cpu_ms"] > 0

    memory = document["memory"]
    assert [row["events"] for row in memory["rows"]] == [500, 1000]
    assert all(row["peak_rss_mib"] > 0 for row in memory["rows"])
    assert memory["rss_source"] in ("VmHWM", "ru_maxrss")

    for heading in ("Producer throughput", "Open and resume latency", "Peak memory"):
        assert heading in completed.stdout
    assert "latency 1/1: 1,000 events in the topic" in completed.stderr
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in completed.stderr
    else:
        for name in PLOTS.values():
            assert (tmp_path / "plots" / name).read_bytes().startswith(b"\x89PNG")


def test_only_measures_the_sections_asked_for(tmp_path: Path) -> None:
    completed, _ = _tiny_run(tmp_path, "--only", "latency")
    assert completed.returncode == 0, completed.stderr
    document = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert "latency" in document and "throughput" not in document and "memory" not in document


def test_backends_whose_topics_die_with_the_process_are_refused(tmp_path: Path) -> None:
    completed = subprocess.run(
        [*COMMAND, "--backend", "memory", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1
    assert "do not outlive the process" in completed.stderr
    assert list(tmp_path.iterdir()) == []


def _topic(tmp_path: Path, events: int) -> dict[str, Any]:
    options = {"root_path": str(tmp_path / "topics")}
    with Driver(backend="files", options=options) as driver:
        driver.create_topic("t")
        with driver.open_topic("t").producer() as producer:
            producer.push_many([{"n": n} for n in range(events)])
    return {"backend": "files", "options": options, "topic": "t"}


def test_producer_processes_push_every_event(tmp_path: Path) -> None:
    request = _topic(tmp_path, 0) | {"metadata_size": 64, "data_size": 16}
    seconds, results = run_producers(request, [300, 200], str(tmp_path))
    assert seconds > 0 and [result["events"] for result in results] == [300, 200]
    with Driver(backend="files", options=request["options"]) as driver:
        consumer = driver.open_topic("t").consumer("check")
        events = consumer.pull_many(1000, timeout_ms=0)
        assert len(events) == 500 and all(len(bytes(event.data[0])) == 16 for event in events)


def test_a_first_event_probe_checks_the_id_it_gets(tmp_path: Path) -> None:
    request = _topic(tmp_path, 3) | {"kind": "first_event", "consumer": "c"}
    result = run_probe(request | {"expect": 0}, str(tmp_path))
    assert result["event_id"] == 0 and result["process_s"] >= result["seconds"] > 0
    with pytest.raises(ProbeFailed, match="the first event has id 0, not 2"):
        run_probe(request | {"expect": 2}, str(tmp_path))


def test_a_failed_probe_gives_its_last_error_line(tmp_path: Path) -> None:
    request = _topic(tmp_path, 1) | {"kind": "read", "topic": "missing", "events": 1}
    with pytest.raises(ProbeFailed, match=r"the read process failed \(exit status 1\): .*missing"):
        run_probe(request, str(tmp_path))


@pytest.mark.parametrize(("replay", "expected"), [(True, 49), (False, 98)])
def test_the_resumed_consumer_acknowledged_an_event_inside_the_topic(
    tmp_path: Path, replay: bool, expected: int
) -> None:
    request = _topic(tmp_path, 100)
    with Driver(backend="files", options=request["options"]) as driver:
        topic = driver.open_topic("t")
        assert acknowledge_middle(topic, "resume", 100, replay) == expected
        resumed = topic.consumer("resume").pull().wait(1000)
        assert resumed is not None and resumed.event_id == expected + 1


def test_memory_figures_of_this_process() -> None:
    now = current_rss()
    assert peak_rss() > 0
    if now is not None:  # Linux
        assert peak_rss() >= now > 0


def test_plots_are_optional(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    messages: list[str] = []
    assert draw_plots({"backend": "files"}, str(tmp_path), messages.append) == []
    assert messages == ["matplotlib is not installed: no plots"]
    assert list(tmp_path.iterdir()) == []


def test_redraws_the_committed_run(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="plots need matplotlib (nox -s bench installs it)")
    from diaspora_stream.bench.scaling.plots import main

    document = json.loads(COMMITTED_RUN.read_text(encoding="utf-8"))
    assert {"throughput", "latency", "memory"} <= set(document)
    assert main([str(COMMITTED_RUN), "--output", str(tmp_path)]) == 0
    for name in PLOTS.values():
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
