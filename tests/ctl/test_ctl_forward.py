"""End-to-end tests of ``diaspora-ctl forward`` (a daemon subprocess on the files backend)."""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from ctl_helpers import (
    Daemon,
    assert_one_line_error,
    create_topic,
    files_driver,
    produce,
    read_events,
    run_ctl,
    wait_events,
)

from diaspora_stream.api import Validator

StartDaemon = Callable[[Sequence[str]], Daemon]


def _events(first: int, count: int) -> list[tuple[Any, bytes]]:
    """Events with metadata of several JSON types and data of several sizes."""
    events: list[tuple[Any, bytes]] = []
    for i in range(first, first + count):
        metadata: Any = {"i": i, "tag": "x" * (i % 5)} if i % 3 else f"string event {i}"
        events.append((metadata, bytes([i % 256]) * (i * 37 % 3000)))
    return events


def _key(metadata: Any) -> int:
    return metadata["i"] if isinstance(metadata, dict) else int(metadata.rsplit(" ", 1)[1])


def _config(tmp_path: Path, drivers: dict[str, Path], policies: list[dict[str, str]]) -> Path:
    lines = ["drivers:"]
    for alias, root in drivers.items():
        lines += [f"  {alias}:", "    type: files", "    options:", f"      root_path: {root}"]
    lines.append("forward:")
    for policy in policies:
        lines.append(f"  - from: {policy['from']}")
        lines += [f"    {key}: {value}" for key, value in policy.items() if key != "from"]
    path = tmp_path / "forward.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _check_forwarded(
    source: list[Any], destination: list[Any], expected: list[tuple[Any, bytes]]
) -> None:
    """``destination`` holds exactly the source events, metadata and data, once each, in the
    order of each source partition."""
    assert sorted((_key(m), d) for _, _, m, d in destination) == sorted(
        (_key(m), d) for m, d in expected
    )
    assert sorted(_key(m) for _, _, m, _ in source) == sorted(_key(m) for _, _, m, _ in destination)
    position = {_key(m): index for index, (_, _, m, _) in enumerate(destination)}
    for partition in {p for p, _, _, _ in source}:
        order = [position[_key(m)] for p, _, m, _ in source if p == partition]
        assert order == sorted(order)


def test_forward_metadata_and_data_between_two_topics(
    root: Path, tmp_path: Path, start_daemon: StartDaemon
) -> None:
    create_topic(root, "src", partitions=3)
    create_topic(root, "dst")
    expected = _events(0, 60)
    produce(root, "src", expected)
    config = _config(tmp_path, {"local": root}, [{"from": "local/src", "to": "local/dst"}])
    daemon = start_daemon(["forward", "--config", str(config)])
    destination = wait_events(root, "dst", len(expected))
    assert daemon.stop() == 0
    log = daemon.log()
    assert "Forwarding daemon running." in log
    assert "Forward worker stopped: local/src -> local/dst" in log
    assert "Forwarding daemon stopped." in log
    _check_forwarded(read_events(root, "src"), destination, expected)


def test_forward_to_another_root_and_restart_without_duplicates(
    tmp_path: Path, start_daemon: StartDaemon
) -> None:
    first_root, second_root = tmp_path / "a", tmp_path / "b"
    create_topic(first_root, "src", partitions=2)
    create_topic(second_root, "dst", partitions=2)
    produce(first_root, "src", _events(0, 40))
    config = _config(
        tmp_path, {"a": first_root, "b": second_root}, [{"from": "a/src", "to": "b/dst"}]
    )
    daemon = start_daemon(["forward", "--config", str(config)])
    wait_events(second_root, "dst", 40)
    assert daemon.stop() == 0
    # More events while the daemon is down; a new daemon forwards only those.
    produce(first_root, "src", _events(40, 25))
    daemon = start_daemon(["forward", "--config", str(config)])
    destination = wait_events(second_root, "dst", 65)
    assert daemon.stop(signal.SIGINT) == 0
    destination = read_events(second_root, "dst")  # nothing more arrived meanwhile
    assert len(destination) == 65
    _check_forwarded(read_events(first_root, "src"), destination, _events(0, 65))


def test_forward_with_a_data_selector_plugin_and_two_policies(
    root: Path, tmp_path: Path, start_daemon: StartDaemon
) -> None:
    for name in ("src-a", "dst-a", "src-b", "dst-b"):
        create_topic(root, name)
    produce(root, "src-a", [({"from": "a"}, b"abcdefgh")])
    produce(root, "src-b", [({"from": "b"}, b"0123456789")])
    config = _config(
        tmp_path,
        {"local": root},
        [
            {"from": "local/src-a", "to": "local/dst-a", "data_selector": "ctl_plugins:first_half"},
            {
                "from": "local/src-b",
                "to": "local/dst-b",
                "data_allocator": "ctl_plugins:bytearray_allocator",
            },
        ],
    )
    daemon = start_daemon(["forward", "--config", str(config)])
    assert [(m, d) for _, _, m, d in wait_events(root, "dst-a", 1)] == [({"from": "a"}, b"abcd")]
    assert [(m, d) for _, _, m, d in wait_events(root, "dst-b", 1)] == [
        ({"from": "b"}, b"0123456789")
    ]
    assert daemon.stop() == 0


def test_events_the_destination_rejects_are_logged_and_skipped(
    root: Path, tmp_path: Path, start_daemon: StartDaemon
) -> None:
    create_topic(root, "src")
    driver = files_driver(root)
    driver.create_topic(
        "objects-only", validator=Validator.from_metadata(type="schema", schema={"type": "object"})
    )
    driver.close()
    produce(root, "src", [({"i": 0}, b"a"), ("not an object", b"b"), ({"i": 2}, b"c")])
    config = _config(tmp_path, {"local": root}, [{"from": "local/src", "to": "local/objects-only"}])
    daemon = start_daemon(["forward", "--config", str(config)])
    daemon.wait_log("Reached end of topic local/src")
    assert daemon.stop() == 0
    assert [(m, d) for _, _, m, d in read_events(root, "objects-only")] == [
        ({"i": 0}, b"a"),
        ({"i": 2}, b"c"),
    ]
    assert "event 1 of partition 0 not forwarded" in daemon.log()
    # Everything was acknowledged: a restarted daemon has nothing to forward.
    daemon = start_daemon(["forward", "--config", str(config)])
    daemon.wait_log("Reached end of topic local/src (0 event(s) forwarded)")
    assert daemon.stop() == 0


def test_forward_graceful_shutdown_on_empty_topics(
    root: Path, tmp_path: Path, start_daemon: StartDaemon
) -> None:
    create_topic(root, "src")
    create_topic(root, "dst")
    config = _config(tmp_path, {"local": root}, [{"from": "local/src", "to": "local/dst"}])
    daemon = start_daemon(["forward", "--config", str(config)])
    daemon.wait_log("Forwarding daemon running.")
    assert daemon.stop(timeout=5) == 0
    assert read_events(root, "dst") == []


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"from": "local/missing", "to": "local/dst"}, "Diaspora error:"),
        ({"from": "local/src", "to": "nowhere/dst"}, "Unknown driver 'nowhere'"),
        ({"from": "local/src", "to": "local/dst", "data_selector": "ctl_plugins:nope"}, "nope"),
    ],
)
def test_forward_errors(root: Path, tmp_path: Path, policy: dict[str, str], message: str) -> None:
    create_topic(root, "src")
    create_topic(root, "dst")
    config = _config(tmp_path, {"local": root}, [policy])
    assert_one_line_error(run_ctl("forward", "--config", str(config)), message)


def test_forward_missing_config() -> None:
    assert_one_line_error(run_ctl("forward", "--config", "/nonexistent.yaml"), "Failed to open")
    assert_one_line_error(run_ctl("forward"), "--config")
    assert_one_line_error(run_ctl("forward", "--config", "x", "--driver.a", "b"), "unrecognized")
