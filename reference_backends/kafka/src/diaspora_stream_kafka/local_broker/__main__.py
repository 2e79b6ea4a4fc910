"""``python -m diaspora_stream_kafka.local_broker``: fetch, run, start, stop a local broker.

* ``fetch``: resolve the broker's jars from Maven Central into the cache; print the directory.
* ``run``: run a broker in the foreground until SIGINT/SIGTERM; print ``host:port`` once ready.
* ``start --state-dir DIR``: run one in the background; print ``host:port`` once ready.
* ``stop --state-dir DIR`` / ``status --state-dir DIR``: stop it / tell whether it runs.

The broker's data and logs are in ``--directory`` (``run``; default: a temporary directory
removed at exit) or in ``DIR/broker`` (``start``, kept for a later ``start``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from diaspora_stream.backend.services import process_alive

from .errors import BrokerUnavailable
from .jars import ensure_jars
from .server import LocalBroker

STATE_FILE = "broker.json"
_START_TIMEOUT_S = 180.0


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _state(directory: Path) -> dict[str, object] | None:
    path = directory / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pid = state.get("pid")
    if not isinstance(pid, int) or not process_alive(pid):
        return None
    return state


def _run(arguments: argparse.Namespace) -> int:
    state_dir = Path(arguments.state_dir) if arguments.state_dir else None
    directory = arguments.directory or (state_dir / "broker" if state_dir else None)
    broker = LocalBroker(directory, port=arguments.port, log=_log)
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    try:
        broker.start()
    except BrokerUnavailable as error:
        _log(f"error: {error}")
        return 1
    try:
        if state_dir is not None:
            state = {
                "pid": os.getpid(),
                "broker_pid": broker.pid,
                "bootstrap_servers": broker.bootstrap_servers,
                "directory": str(broker.directory),
            }
            (state_dir / STATE_FILE).write_text(json.dumps(state) + "\n", encoding="utf-8")
        print(broker.bootstrap_servers, flush=True)
        stop.wait()
    finally:
        _log("stopping the Kafka broker")
        if arguments.directory is None and state_dir is None:
            broker.close()
        else:
            broker.stop()
        if state_dir is not None:
            (state_dir / STATE_FILE).unlink(missing_ok=True)
    return 0


def _start(arguments: argparse.Namespace) -> int:
    state_dir = Path(arguments.state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    running = _state(state_dir)
    if running is not None:
        print(running["bootstrap_servers"], flush=True)
        return 0
    try:
        ensure_jars(_log)  # in the foreground: its progress and errors reach the terminal
    except BrokerUnavailable as error:
        _log(f"error: {error}")
        return 1
    command = [sys.executable, "-m", __package__ or "", "run", "--state-dir", str(state_dir)]
    if arguments.port:
        command += ["--port", str(arguments.port)]
    log_path = state_dir / "run.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
        )
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        state = _state(state_dir)
        if state is not None:
            print(state["bootstrap_servers"], flush=True)
            return 0
        if process.poll() is not None:
            break
        time.sleep(0.2)
    else:
        process.terminate()
    tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
    _log("error: the Kafka broker did not start; last lines of " + str(log_path) + ":")
    _log("\n".join(tail))
    return 1


def _stop(arguments: argparse.Namespace) -> int:
    state_dir = Path(arguments.state_dir)
    state = _state(state_dir)
    if state is None:
        _log(f"no Kafka broker runs from {state_dir}")
        return 0
    pid = int(str(state["pid"]))
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if process_alive(pid):
        _log(f"error: the Kafka broker (pid {pid}) did not stop within 60 s")
        return 1
    _log(f"stopped the Kafka broker on {state['bootstrap_servers']}")
    return 0


def _status(arguments: argparse.Namespace) -> int:
    state = _state(Path(arguments.state_dir))
    if state is None:
        print("not running", flush=True)
        return 3
    print(f"running on {state['bootstrap_servers']} (pid {state['pid']})", flush=True)
    return 0


def _fetch(_arguments: argparse.Namespace) -> int:
    try:
        print(ensure_jars(_log), flush=True)
    except BrokerUnavailable as error:
        _log(f"error: {error}")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m diaspora_stream_kafka.local_broker",
        description="A single-node Apache Kafka broker on 127.0.0.1 for tests and trials.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="fetch the broker's jars (Maven Central) into the cache")
    run = commands.add_parser("run", help="run a broker in the foreground")
    run.add_argument("--directory", help="data and logs (default: temporary)")
    run.add_argument("--state-dir", help=argparse.SUPPRESS)
    start = commands.add_parser("start", help="run a broker in the background")
    for sub in (run, start):
        sub.add_argument("--port", type=int, help="client port (default: a free one)")
    start.add_argument("--state-dir", required=True, help="where the broker's state is kept")
    for name, text in (("stop", "stop the background broker"), ("status", "is it running?")):
        commands.add_parser(name, help=text).add_argument("--state-dir", required=True)
    arguments = parser.parse_args(argv)
    handlers = {"fetch": _fetch, "run": _run, "start": _start, "stop": _stop, "status": _status}
    if arguments.command == "run" and not hasattr(arguments, "directory"):
        arguments.directory = None
    return handlers[arguments.command](arguments)


if __name__ == "__main__":
    sys.exit(main())
