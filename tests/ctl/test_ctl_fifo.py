"""End-to-end tests of ``diaspora-ctl fifo`` (a daemon subprocess on the files backend)."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from ctl_helpers import (
    Daemon,
    FifoLines,
    create_topic,
    is_fifo,
    read_events,
    wait_events,
    wait_until,
    write_fifo,
)

StartDaemon = Callable[[Sequence[str]], Daemon]

AWKWARD_LINES = [
    'he said "hi"',
    "back\\slash \\n \\u0041 not escapes",
    "tab\there\tand there",
    "unicode é ☃ 😀",
    "carriage return at the end\r",
    '{"looks": ["like", "json"]}',
    "   leading and trailing spaces   ",
    "\x01control\x1f",
]


@pytest.fixture
def fifo_daemon(root: Path, tmp_path: Path, start_daemon: StartDaemon) -> tuple[Daemon, Path]:
    """A running fifo daemon on ``root`` and its control FIFO."""
    control = tmp_path / "ctl" / "control"
    daemon = start_daemon(
        [
            "fifo", "--driver", "files", "--driver.root_path", str(root),
            "--control-file", str(control), "--logging", "debug",
        ]
    )  # fmt: skip
    wait_until(lambda: is_fifo(control) or not daemon.alive(), what="the control FIFO")
    assert daemon.alive(), daemon.log()
    return daemon, control


def _command(control: Path, line: str) -> None:
    write_fifo(control, (line + "\n").encode())


def _lines(text_lines: Sequence[str]) -> bytes:
    return "".join(line + "\n" for line in text_lines).encode()


def test_producer_fifo_stores_any_line_and_survives_writer_close(
    root: Path, tmp_path: Path, fifo_daemon: tuple[Daemon, Path]
) -> None:
    daemon, control = fifo_daemon
    create_topic(root, "lines")
    producer_fifo = tmp_path / "in"
    _command(control, f"{producer_fifo} -> lines")
    wait_until(lambda: is_fifo(producer_fifo), what="the producer FIFO")
    write_fifo(producer_fifo, _lines(AWKWARD_LINES) + b"\n")  # the empty line is skipped
    events = wait_events(root, "lines", len(AWKWARD_LINES))
    assert [metadata for _, _, metadata, _ in events] == AWKWARD_LINES
    # The writer closed; the FIFO is still served, and an unterminated last line is kept.
    assert is_fifo(producer_fifo)
    write_fifo(producer_fifo, b"second session\nno newline")
    events = wait_events(root, "lines", len(AWKWARD_LINES) + 2)
    assert [m for _, _, m, _ in events[-2:]] == ["second session", "no newline"]
    assert daemon.stop() == 0
    assert not control.exists()
    assert not producer_fifo.exists()  # created by the daemon, removed by it
    assert "Shutting down daemon..." in daemon.log()


def test_json_format_and_bad_lines(
    root: Path, tmp_path: Path, fifo_daemon: tuple[Daemon, Path]
) -> None:
    daemon, control = fifo_daemon
    create_topic(root, "json")
    producer_fifo = tmp_path / "json-in"
    _command(control, "not a command")
    _command(control, f"{producer_fifo} -> missing-topic")
    _command(control, f"{producer_fifo} -> json (format=json, batch_size=1)")
    wait_until(lambda: is_fifo(producer_fifo), what="the producer FIFO")
    write_fifo(producer_fifo, b'{"a": 1}\n{oops\n"text"\n[1, 2.5, null]\n')
    events = wait_events(root, "json", 3)
    assert [m for _, _, m, _ in events] == [{"a": 1}, "text", [1, 2.5, None]]
    daemon.wait_log("Failed to push event")
    log = daemon.log()
    assert "Invalid command format: 'not a command'" in log
    assert "Failed to create producer" in log
    assert daemon.alive()
    assert daemon.stop() == 0


def test_consumer_fifo_streams_events_and_survives_its_reader_leaving(
    root: Path, tmp_path: Path, fifo_daemon: tuple[Daemon, Path]
) -> None:
    daemon, control = fifo_daemon
    create_topic(root, "stream")
    producer_fifo = tmp_path / "stream-in"
    _command(control, f"{producer_fifo} -> stream (batch_size=1)")
    wait_until(lambda: is_fifo(producer_fifo), what="the producer FIFO")
    write_fifo(producer_fifo, _lines(AWKWARD_LINES))
    wait_events(root, "stream", len(AWKWARD_LINES))
    consumer_fifo = tmp_path / "out"
    os.mkfifo(consumer_fifo)
    json_fifo = tmp_path / "out-json"
    os.mkfifo(json_fifo)
    reader = FifoLines(consumer_fifo)
    json_reader = FifoLines(json_fifo)
    try:
        _command(control, f"{consumer_fifo} <- stream")
        _command(control, f"{json_fifo} <- stream (format=json)")
        lines = reader.wait_lines(len(AWKWARD_LINES))
        assert [line.decode() for line in lines] == AWKWARD_LINES
        json_lines = json_reader.wait_lines(len(AWKWARD_LINES))
        assert [json.loads(line) for line in json_lines] == AWKWARD_LINES
    finally:
        reader.close()
    # The reader went away: new events wait for the next reader, the daemon lives on.
    write_fifo(producer_fifo, _lines(["after 1", "after 2"]))
    wait_events(root, "stream", len(AWKWARD_LINES) + 2)
    daemon.wait_log(f"Reader of consumer FIFO '{consumer_fifo}' went away")
    assert daemon.alive()
    reader = FifoLines(consumer_fifo)
    try:
        assert [line.decode() for line in reader.wait_lines(2)] == ["after 1", "after 2"]
        json_reader.wait_lines(len(AWKWARD_LINES) + 2)
    finally:
        reader.close()
        json_reader.close()
    assert daemon.stop(signal.SIGINT) == 0
    assert consumer_fifo.exists()  # consumer FIFOs belong to the user


def test_removed_fifos(root: Path, tmp_path: Path, fifo_daemon: tuple[Daemon, Path]) -> None:
    daemon, control = fifo_daemon
    create_topic(root, "gone")
    producer_fifo = tmp_path / "gone-in"
    _command(control, f"{producer_fifo} -> gone (batch_size=1)")
    wait_until(lambda: is_fifo(producer_fifo), what="the producer FIFO")
    # The FIFO is removed while a writer has it open: its last lines are still stored, then
    # the daemon unregisters it and goes on.
    fd = os.open(producer_fifo, os.O_WRONLY)
    os.write(fd, b"last words\nunterminated")
    producer_fifo.unlink()
    os.close(fd)
    assert [m for _, _, m, _ in wait_events(root, "gone", 2)] == ["last words", "unterminated"]
    daemon.wait_log("failed: No such file or directory; unregistered")
    _command(control, f"{producer_fifo} -> gone (batch_size=1)")
    wait_until(lambda: is_fifo(producer_fifo), what="the producer FIFO, registered again")
    # The control FIFO removed between two writers is created again.
    fd = os.open(control, os.O_WRONLY)
    control.unlink()
    os.close(fd)
    wait_until(lambda: is_fifo(control), what="the control FIFO, created again")
    daemon.wait_log("creating it again")
    write_fifo(producer_fifo, b"still served\n")
    assert wait_events(root, "gone", 3)[-1][2] == "still served"
    assert daemon.stop() == 0


def test_consumer_fifo_errors(root: Path, tmp_path: Path, fifo_daemon: tuple[Daemon, Path]) -> None:
    daemon, control = fifo_daemon
    create_topic(root, "t")
    regular = tmp_path / "regular-file"
    regular.write_text("")
    _command(control, f"{tmp_path / 'absent'} <- t")
    _command(control, f"{regular} <- t")
    daemon.wait_log("exists but is not a FIFO")
    assert "does not exist. Please create it first with mkfifo." in daemon.log()
    assert daemon.alive()
    assert daemon.stop() == 0


def test_sigterm_flushes_pending_lines(
    root: Path, tmp_path: Path, fifo_daemon: tuple[Daemon, Path]
) -> None:
    daemon, control = fifo_daemon
    create_topic(root, "pending")
    producer_fifo = tmp_path / "pending-in"
    _command(control, f"{producer_fifo} -> pending (batch_size=100000)")
    wait_until(lambda: is_fifo(producer_fifo), what="the producer FIFO")
    write_fifo(producer_fifo, _lines([f"line {i}" for i in range(50)]))
    assert daemon.stop() == 0
    assert [m for _, _, m, _ in read_events(root, "pending")] == [f"line {i}" for i in range(50)]


def test_fifo_start_up_errors(root: Path, tmp_path: Path, start_daemon: StartDaemon) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    daemon = start_daemon(
        ["fifo", "--driver", "files", "--driver.root_path", str(root),
         "--control-file", str(blocked / "control")]
    )  # fmt: skip
    assert daemon.process.wait(30) == 1
    errors = [line for line in daemon.log().splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "Failed to create control FIFO" in errors[0]
    daemon = start_daemon(["fifo", "--driver", "files"])
    assert daemon.process.wait(30) == 1
    assert "--control-file" in daemon.log()
