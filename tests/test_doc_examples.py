"""The documentation's example scripts (docs/_code/*.py) run as written, against the files
backend in a temporary directory, and do what they say."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from api_helpers import subprocess_env

from diaspora_stream.api import Driver

CODE_DIR = Path(__file__).resolve().parents[1] / "docs" / "_code"


def _files_installed() -> bool:
    from diaspora_stream.registry import drivers

    try:
        drivers.resolve("files")
    except Exception:  # noqa: BLE001 - not installed
        return False
    return True


pytestmark = pytest.mark.skipif(not _files_installed(), reason="the files backend is not installed")


def run_example(name: str, *args: str | Path) -> str:
    result = subprocess.run(
        [sys.executable, str(CODE_DIR / name), *map(str, args)],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_usage_message() -> None:
    for name in ("producer.py", "consumer.py", "energy_topic.py", "replay.py"):
        result = subprocess.run(
            [sys.executable, str(CODE_DIR / name)],
            capture_output=True,
            text=True,
            env=subprocess_env(),
            timeout=60,
        )
        assert result.returncode == 1
        assert "Usage:" in result.stderr


def test_producer_then_consumer(tmp_path: Path) -> None:
    root = tmp_path / "data"
    out = run_example("producer.py", root)
    assert "created topic my_topic" in out
    assert "pushed 100 events to topic my_topic; last event id: 99" in out

    out = run_example("consumer.py", root)
    lines = [line for line in out.splitlines() if line.startswith("event ")]
    assert len(lines) == 100
    for i, line in enumerate(lines):
        assert line == f"event {i}: metadata={{'name': 'bob', 'x': 42}} data=b'event {i}'"
    assert out.splitlines()[-1] == "consumed 100 events from topic my_topic"

    # The consumer acknowledged up to event 99: running it again reads nothing ...
    out = run_example("consumer.py", root)
    assert out.splitlines() == ["consumed 0 events from topic my_topic"]
    # ... until more events arrive, which it reads from where it stopped.
    out = run_example("producer.py", root)
    assert "created topic" not in out
    assert "last event id: 199" in out
    out = run_example("consumer.py", root)
    ids = [int(m.group(1)) for m in re.finditer(r"^event (\d+):", out, re.MULTILINE)]
    assert ids == list(range(100, 200))

    # The events are really in the files topic, readable by another consumer name.
    driver = Driver(backend="files", options={"root_path": str(root)})
    consumer = driver.open_topic("my_topic").consumer("someone_else")
    count = 0
    while consumer.pull().wait(100) is not None:
        count += 1
    assert count == 200


def test_producer_with_a_topic_name(tmp_path: Path) -> None:
    out = run_example("producer.py", tmp_path, "other")
    assert "pushed 100 events to topic other" in out
    assert "consumed 100 events from topic other" in run_example("consumer.py", tmp_path, "other")


EXPECTED_EVENTS = [
    "partition 0 event 0: energy=5 data=b''",  # energy <= 20: the selector skips the data
    "partition 1 event 0: energy=42 data=b'abcd'",
    "partition 1 event 1: energy=42 data=b'abcdefbc'",
    "partition 1 event 2: energy=30 data=b'\\x1e\\x1e\\x1e'",
    "partition 2 event 0: energy=55 data=b'777'",
    "partition 3 event 0: energy=80 data=b'PPP'",
    "partition 3 event 1: energy=99 data=b'ccc'",
]


def test_energy_topic(tmp_path: Path) -> None:
    root = tmp_path / "data"
    out = run_example("energy_topic.py", root)
    lines = out.splitlines()
    assert lines[0] == "created topic collisions with 4 partitions"
    assert "validator: {'energy_max': 100, 'type': 'energy_validator'}" in lines
    assert "pushed energy 42 twice; the first got id 0" in lines
    rejected = [line for line in lines if line.startswith("rejected")]
    assert len(rejected) == 3
    assert "energy value to be in [0, 100), got 150" in rejected[0]
    assert "to be an integer" in rejected[1]
    assert 'contain an "energy" field' in rejected[2]
    assert [line for line in lines if re.match(r"partition \d", line)] == EXPECTED_EVENTS
    assert lines[-1] == "read back 7 events"

    # The components are stored with their type and configuration ...
    topic_dir = root / "collisions"
    for file_name, type_name in [
        ("validator.json", "energy_validator"),
        ("serializer.json", "energy_serializer"),
        ("partition-selector.json", "energy_partition_selector"),
    ]:
        assert json.loads((topic_dir / file_name).read_text()) == {
            "energy_max": 100,
            "type": type_name,
        }
    # ... and the serializer stores one byte of metadata per event.
    sizes = [(topic_dir / "partitions" / f"{p:08d}" / "metadata").read_bytes() for p in range(4)]
    assert sizes == [bytes([5]), bytes([42, 42, 30]), bytes([55]), bytes([80, 99])]

    # Running it again reopens the topic and re-creates its components.
    out = run_example("energy_topic.py", root)
    lines = out.splitlines()
    assert lines[0].startswith("topic collisions already exists")
    assert "pushed energy 42 twice; the first got id 3" in lines
    assert len([line for line in lines if line.startswith("rejected")]) == 3
    # Consumer "app2" acknowledged everything it read: only the new events come back.
    assert lines[-1] == "read back 7 events"
    assert "partition 1 event 3: energy=42 data=b'abcd'" in lines
    assert "partition 1 event 0: energy=42 data=b'abcd'" not in lines
    assert (topic_dir / "partitions" / "00000001" / "metadata").read_bytes() == bytes(
        [42, 42, 30, 42, 42, 30]
    )


def test_end_of_stream_and_replay(tmp_path: Path) -> None:
    out = run_example("replay.py", tmp_path / "data").splitlines()
    assert out[0].startswith("refused: Topic 'simulation', partition 0 is complete")
    assert out[1:] == [
        f"analysis read steps {list(range(10))}",
        "acknowledged positions of 'analysis': {0: 4, 1: 4}",
        "consumer names: ['analysis']",
        "replayed steps [7, 9]",
        "audit read 10 events",
    ]
