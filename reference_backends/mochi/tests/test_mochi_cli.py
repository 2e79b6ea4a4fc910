"""``diaspora-mochi start|status|stop`` and a service of several server processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from diaspora_stream.api import Driver
from mochi_service import service_config


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "diaspora_stream_mochi.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_start_status_stop_with_two_members(tmp_path: Path) -> None:
    config = service_config(tmp_path, servers=2, memory_reserve=2**20)
    path = str(tmp_path / "mochi.yaml")
    assert _cli("status", "--config", path).returncode == 1
    started = _cli("start", "--config", path)
    assert started.returncode == 0, started.stderr
    try:
        members = json.loads(config.group_file.read_text())["members"]
        assert [m["rank"] for m in members] == [0, 1]
        assert all(m["address"].startswith("tcp://127.0.0.1:") for m in members)
        status = _cli("status", "--config", path)
        assert status.returncode == 0
        assert status.stdout.count(": up") == 2
        assert status.stdout.count("memory reserve: 0.0 of 1.0 MiB used") == 2
        again = _cli("start", "--config", path)
        assert again.returncode == 1
        assert "already running" in again.stderr
        driver = Driver(backend="mochi", options={"group_file": str(config.group_file)})
        driver.create_topic("spread", options={"num_partitions": 4})
        topic = driver.open_topic("spread")
        assert [p["member"] for p in topic.partitions] == [0, 1, 0, 1]
        producer = topic.producer(batch_size=4)
        for i in range(40):
            producer.push({"i": i}, b"%d" % i)
        producer.flush().wait()
        consumer = topic.consumer("all")
        seen = sorted(consumer.pull().wait(10_000).metadata["i"] for _ in range(40))
        assert seen == list(range(40))
    finally:
        stopped = _cli("stop", "--config", path)
    assert stopped.returncode == 0, stopped.stderr
    assert not config.group_file.exists()
    assert _cli("status", "--config", path).returncode == 1


def test_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"root": "d", "group_file": "g.json", "colour": 1}')
    result = _cli("start", "--config", str(bad))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "unknown configuration keys ['colour']" in result.stderr
    missing = _cli("stop", "--config", str(tmp_path / "none.json"))
    assert missing.returncode == 1
    assert "cannot read configuration file" in missing.stderr
