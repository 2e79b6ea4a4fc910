"""The trust boundary: access token, and a server that reads only memory shared with it."""

from __future__ import annotations

import fcntl
import os
import socket
import stat
import subprocess
import sys
from array import array
from collections.abc import Iterator
from pathlib import Path

import pytest
from mochi_service import RunningService

from diaspora_stream_mochi import MochiDriver
from diaspora_stream_mochi.config import ServerConfig, read_group_file, read_token
from diaspora_stream_mochi.errors import ConfigurationError
from diaspora_stream_mochi.protocol import receive_frame, send_frame, send_frame_with_fd

SECRET = b"the victim's secret: 5f1c0de5a1ad"
_VICTIM = f"""
import sys, time
from diaspora_stream_mochi.memory_access import buffer_address
secret = bytes({SECRET!r})
print(buffer_address(memoryview(secret)), flush=True)
sys.stdin.read()
"""


@pytest.fixture
def victim() -> Iterator[tuple[int, int]]:
    """Another process holding a secret: its pid and the secret's address."""
    process = subprocess.Popen(
        [sys.executable, "-c", _VICTIM], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert process.stdout is not None and process.stdin is not None
    address = int(process.stdout.readline())
    yield process.pid, address
    process.stdin.close()
    process.wait(10)


def _tcp(service: RunningService) -> socket.socket:
    host, port = read_group_file(service.config.group_file)[0].host_port
    return socket.create_connection((host, port), timeout=10)


def _unix(service: RunningService) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect("\0" + read_group_file(service.config.group_file)[0].local)
    return sock


def _hello(sock: socket.socket, service: RunningService) -> socket.socket:
    send_frame(sock, {"op": "hello", "token": read_token(service.config.group_file)})
    assert receive_frame(sock)[0] == {"ok": True}
    return sock


def _stored_bytes(service: RunningService) -> bytes:
    return b"".join(path.read_bytes() for path in service.config.root.glob("partitions/*/*"))


def _event_count(service: RunningService, topic: str) -> int:
    driver = MochiDriver(service.options())
    try:
        return driver.open_topic(topic).event_count(0)
    finally:
        driver.close()


def _append(
    topic: str, data_size: int, extra: dict | None = None, tail: bytes = b""
) -> tuple[dict, bytes]:
    """An append of one event with metadata ``{}`` announcing ``data_size`` bytes of data;
    ``tail``: bytes between the size tables and the metadata (an old-style segment table)."""
    header = {"op": "append", "topic": topic, "partition": 0, "count": 1, **(extra or {})}
    tables = array("I", [2]).tobytes() + array("Q", [data_size]).tobytes()
    return header, tables + tail + b"{}"


def test_a_client_lying_about_its_pid_addresses_and_lengths_gets_no_other_memory(
    mochi_service: RunningService, victim: tuple[int, int]
) -> None:
    """A client names another process (and the server itself), addresses in them, lengths of
    its choice, on TCP and on the Unix socket: nothing of their memory is ever stored."""
    pid, address = victim
    driver = MochiDriver(mochi_service.options())
    from diaspora_stream.backend.log import TopicConfig

    driver.create_topic("lies", TopicConfig(num_partitions=1))
    server_pid = read_group_file(mochi_service.config.group_file)[0].pid
    with _hello(_tcp(mochi_service), mochi_service) as sock:
        send_frame(sock, {"op": "ping"})
        node = receive_frame(sock)[0].get("node", "")
    lies = [
        (pid, address, len(SECRET)),
        (server_pid, 0x400000, 64),  # where an executable's ELF header may be mapped
        (pid, address, 1 << 40),
    ]
    for lied_pid, lied_address, length in lies:
        for connect in (_tcp, _unix):
            with _hello(connect(mochi_service), mochi_service) as sock:
                pairs = array("Q", [lied_address, length]).tobytes()
                claims = {"pid": lied_pid, "node": node, "segments": 1}
                header, payload = _append("lies", length, claims, pairs)
                send_frame(sock, header, [payload])
                answer = receive_frame(sock)[0]
                assert answer.get("ok") is not True
    for offset in (-1, 1 << 62, 2**63 - 1):
        with _hello(_unix(mochi_service), mochi_service) as sock:
            header, payload = _append("lies", 16, {"shared": offset, "pid": pid})
            send_frame(sock, header, [payload])
            assert receive_frame(sock)[0]["ok"] is False
    assert SECRET not in _stored_bytes(mochi_service)
    assert _event_count(mochi_service, "lies") == 0
    driver.close()


def test_shared_memory_must_be_a_sealed_memfd_and_ranges_stay_inside_it(
    mochi_service: RunningService, tmp_path: Path
) -> None:
    driver = MochiDriver(mochi_service.options())
    from diaspora_stream.backend.log import TopicConfig

    driver.create_topic("shared-lies", TopicConfig(num_partitions=1))
    other = tmp_path / "a-file"
    other.write_bytes(SECRET * 100)
    unsealed = os.memfd_create("unsealed", os.MFD_ALLOW_SEALING)
    os.ftruncate(unsealed, 4096)
    for fd in (os.open(other, os.O_RDONLY), unsealed):
        with _hello(_unix(mochi_service), mochi_service) as sock:
            send_frame_with_fd(sock, {"op": "share"}, fd)
            answer = receive_frame(sock)[0]
            assert answer["ok"] is False and "shared memory refused" in answer["error"]
        os.close(fd)
    sealed = os.memfd_create("sealed", os.MFD_ALLOW_SEALING)
    os.ftruncate(sealed, 4096)
    fcntl.fcntl(sealed, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK)
    with _hello(_unix(mochi_service), mochi_service) as sock:
        send_frame_with_fd(sock, {"op": "share"}, sealed)
        assert receive_frame(sock)[0] == {"ok": True}
        for offset, size in ((4000, 200), (0, 4097), (2**63 - 1, 1)):
            header, payload = _append("shared-lies", size, {"shared": offset})
            send_frame(sock, header, [payload])
            answer = receive_frame(sock)[0]
            assert answer["ok"] is False and "outside" in answer["error"]
        header, payload = _append("shared-lies", 100, {"shared": 3996})
        send_frame(sock, header, [payload])
        assert receive_frame(sock)[0]["first_id"] == 0  # inside: stored
    os.close(sealed)
    assert _event_count(mochi_service, "shared-lies") == 1
    driver.close()


@pytest.mark.parametrize("first", [{"op": "ping"}, {"op": "hello", "token": "guess"}, {}])
def test_a_connection_without_the_token_gets_one_error_and_is_closed(
    mochi_service: RunningService, first: dict
) -> None:
    for connect in (_tcp, _unix):
        with connect(mochi_service) as sock:
            send_frame(sock, first)
            answer = receive_frame(sock)[0]
            assert answer["ok"] is False and answer["error"].startswith("access denied")
            with pytest.raises((EOFError, ConnectionError)):
                send_frame(sock, {"op": "list_topics"})
                receive_frame(sock)


def test_the_token_and_the_group_file_are_readable_by_their_owner_only(
    mochi_service: RunningService,
) -> None:
    for path in (mochi_service.config.group_file, mochi_service.config.root / "access-token"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_token(mochi_service.config.group_file)


def test_listening_beyond_loopback_without_the_token_is_refused(tmp_path: Path) -> None:
    settings = {"root": "data", "group_file": "g.json", "host": "0.0.0.0", "access_token": False}
    with pytest.raises(ConfigurationError, match="anyone who reaches that address"):
        ServerConfig.from_dict(settings, tmp_path)
    ServerConfig.from_dict({**settings, "access_token": True}, tmp_path)
    ServerConfig.from_dict({**settings, "host": "127.0.0.1"}, tmp_path)
