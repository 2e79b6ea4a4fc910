"""Start, stop and query a service (the members of one configuration) from Python.

``diaspora-mochi`` (:mod:`.cli`) and the tests use these functions.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from diaspora_stream.backend.services import process_alive

from .access import load_or_create_token
from .client import MemberClient
from .config import GroupMember, ServerConfig, read_group_file, write_group_file
from .errors import ConfigurationError, ServerUnavailableError
from .server import member_file

__all__ = ["ping", "start", "status", "stop", "wait_stopped"]

START_TIMEOUT = 30.0


def ping(member: GroupMember, group_file: Path, timeout: float = 2.0) -> dict[str, Any] | None:
    """The member's ping answer, or ``None`` if it does not answer."""
    client = MemberClient(member, group_file, timeout)
    try:
        return client.call({"op": "ping"})[0]
    except ServerUnavailableError:
        return None
    finally:
        client.close()


def status(config: ServerConfig) -> list[tuple[GroupMember, bool]]:
    """Each member of the group file with whether it answers; ``[]`` without a group file."""
    if not config.group_file.exists():
        return []
    members = read_group_file(config.group_file)
    return [(member, ping(member, config.group_file) is not None) for member in members]


def start(config: ServerConfig, foreground: bool = False) -> list[GroupMember]:
    """Start the members, wait until each listens, write the group file.

    With ``foreground`` the call returns only when the members stop (SIGTERM or SIGINT to this
    process stops them), and removes the group file.
    """
    running = [member for member, alive in status(config) if alive]
    if running:
        raise ConfigurationError(
            f"a service is already running with group file {config.group_file} "
            f"({running[0].address}); stop it first with 'diaspora-mochi stop'"
        )
    config.root.mkdir(parents=True, exist_ok=True)
    token = load_or_create_token(config.root) if config.access_token else None
    for rank in range(config.servers):
        member_file(config.root, rank).unlink(missing_ok=True)
    encoded = json.dumps(config.as_dict())
    processes = []
    for rank in range(config.servers):
        with open(config.root / f"server-{rank}.out", "ab") as output:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "diaspora_stream_mochi.server", encoded, str(rank)],
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=output,
                    start_new_session=not foreground,
                    cwd=config.root,
                )
            )
    try:
        members = _wait_listening(config, processes)
    except BaseException:
        for process in processes:
            process.terminate()
        raise
    write_group_file(config.group_file, members, config.root, token)
    if foreground:
        _run_in_foreground(config, processes)
    return members


def _wait_listening(config: ServerConfig, processes: list[subprocess.Popen[bytes]]) -> list[Any]:
    deadline = time.monotonic() + START_TIMEOUT
    members: dict[int, GroupMember] = {}
    while len(members) < len(processes):
        for rank, process in enumerate(processes):
            if rank in members:
                continue
            path = member_file(config.root, rank)
            if path.exists():
                data = json.loads(path.read_text())
                members[rank] = GroupMember(
                    data["address"], rank, data["pid"], data.get("local", "")
                )
            elif process.poll() is not None:
                log = (config.root / f"server-{rank}.out").read_text(errors="replace")
                raise ConfigurationError(
                    f"server member {rank} exited with status {process.returncode} before "
                    f"listening; its output ends with: {log[-2000:].strip() or '(nothing)'}"
                )
        if time.monotonic() > deadline:
            raise ConfigurationError(
                f"server members did not start listening within {START_TIMEOUT:g} s; "
                f"see {config.root}/server-*.log"
            )
        time.sleep(0.02)
    return [members[rank] for rank in range(len(processes))]


def _run_in_foreground(config: ServerConfig, processes: list[subprocess.Popen[bytes]]) -> None:
    def forward(signum: int, frame: Any) -> None:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        for process in processes:
            process.wait()
    finally:
        config.group_file.unlink(missing_ok=True)


def wait_stopped(pids: list[int], timeout: float) -> bool:
    """Wait until none of ``pids`` runs; whether they all stopped in time."""
    deadline = time.monotonic() + timeout
    while any(process_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def stop(config: ServerConfig, timeout: float = 15.0) -> list[GroupMember]:
    """SIGTERM every member of the group file, wait, remove the group file."""
    if not config.group_file.exists():
        raise ConfigurationError(
            f"no group file {config.group_file}: the service is not running (or was started "
            "with another configuration)"
        )
    members = read_group_file(config.group_file)
    pids = [member.pid for member in members if member.pid > 0]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    if not wait_stopped(pids, timeout):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_stopped(pids, 5.0)
    config.group_file.unlink(missing_ok=True)
    return members
