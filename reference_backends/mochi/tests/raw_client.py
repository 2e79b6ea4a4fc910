"""Test helpers: raw connections to a member, speaking the wire protocol by hand."""

from __future__ import annotations

import socket
import struct
import time
from array import array
from pathlib import Path
from typing import Any

import orjson
from mochi_service import RunningService

from diaspora_stream_mochi.config import read_group_file, read_token
from diaspora_stream_mochi.protocol import receive_frame, send_frame

#: A frame's length prefix: header length (u32), payload length (u64), big-endian.
PREFIX = struct.Struct("!IQ")


def connect(service: RunningService, timeout: float = 10.0) -> socket.socket:
    """A raw TCP connection to member 0, past its access check (the ``hello`` with the token
    of the group file)."""
    host, port = read_group_file(service.config.group_file)[0].host_port
    sock = socket.create_connection((host, port), timeout=timeout)
    send_frame(sock, {"op": "hello", "token": read_token(service.config.group_file)})
    assert receive_frame(sock)[0] == {"ok": True}
    return sock


def frame_start(header: dict[str, Any], payload_size: int) -> bytes:
    """The beginning of a frame announcing ``payload_size`` payload bytes (none of them)."""
    encoded = orjson.dumps(header)
    return PREFIX.pack(len(encoded), payload_size) + encoded


def append_request(topic: str, data_size: int) -> tuple[dict[str, Any], bytes]:
    """An append of one event with metadata ``{}`` announcing ``data_size`` bytes of data."""
    header = {"op": "append", "topic": topic, "partition": 0, "count": 1}
    return header, array("I", [2]).tobytes() + array("Q", [data_size]).tobytes() + b"{}"


def server_rss(service: RunningService) -> int:
    """Resident memory of member 0's process, in bytes."""
    pid = read_group_file(service.config.group_file)[0].pid
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS in the status of process {pid}")


def settled_server_rss(service: RunningService, tolerance: int = 1 << 20) -> int:
    """Member 0's resident memory once it stopped moving (three samples 50 ms apart within
    ``tolerance``; at most a few seconds): a baseline that memory still being released by
    an earlier connection's thread does not inflate."""
    samples = [server_rss(service)]
    for _ in range(100):
        time.sleep(0.05)
        samples.append(server_rss(service))
        recent = samples[-3:]
        if len(recent) == 3 and max(recent) - min(recent) <= tolerance:
            break
    return samples[-1]
