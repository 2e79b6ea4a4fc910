"""Bounded memory: every length a client announces is checked against a server setting before
anything is allocated for it, over-limit requests are refused and their connection closed, and
what a client sends lands in memory committed as it arrives (announcing costs nothing)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest
from diaspora_stream.api import Driver
from diaspora_stream.exceptions import Exception as DiasporaException
from mochi_service import RunningService
from raw_client import (
    PREFIX,
    append_request,
    connect,
    frame_start,
    server_rss,
    settled_server_rss,
)

from diaspora_stream_mochi import MochiDriver
from diaspora_stream_mochi.config import (
    DEFAULT_MAX_BATCH_DATA,
    DEFAULT_MAX_REQUEST_PAYLOAD,
)
from diaspora_stream_mochi.protocol import receive_frame, send_frame

#: Sizes announced by the hostile clients below.
ANNOUNCED = [512 << 20, 1 << 40, 2**63 - 1]
#: What the server's memory may grow by meanwhile: its own noise (a thread, a log line),
#: never what was announced.
NOISE = 8 << 20
#: What a slow sender trickles, in pieces, before it vanishes.
PIECE = 64 * 1024
PIECES = 16


@pytest.fixture(scope="module")
def topics(mochi_service: RunningService) -> Iterator[None]:
    """One topic per partition type."""
    driver = MochiDriver(mochi_service.options())
    from diaspora_stream.backend.log import TopicConfig

    for kind in ("default", "memory"):
        driver.create_topic(f"limits-{kind}", TopicConfig(num_partitions=1, options={"type": kind}))
    yield
    driver.close()


def _refused(sock: socket.socket, setting: str) -> None:
    """The connection gets one error answer naming ``setting``, then is closed."""
    answer = receive_frame(sock)[0]
    assert answer["ok"] is False and setting in answer["error"], answer
    with pytest.raises((EOFError, ConnectionError)):
        receive_frame(sock)


def _healthy(service: RunningService, topic: str) -> None:
    """A normal client still stores and reads an event (and nothing else was stored)."""
    log_driver = MochiDriver(service.options())
    before = log_driver.open_topic(topic).event_count(0)
    log_driver.close()
    handle = Driver(backend="mochi", options=service.options()).open_topic(topic)
    event_id = handle.producer().push({"after": True}, b"still fine").wait(10_000)
    assert event_id == before
    consumer = handle.consumer(f"check-{time.monotonic_ns()}")
    events = [consumer.pull().wait(10_000) for _ in range(before + 1)]
    assert [event.metadata for event in events] == [{"after": True}] * (before + 1)


def _growth(service: RunningService, start: int) -> int:
    return server_rss(service) - start


@pytest.mark.parametrize("size", ANNOUNCED)
def test_a_frame_announcing_a_huge_payload_is_refused_before_any_allocation(
    mochi_service: RunningService, size: int
) -> None:
    start = settled_server_rss(mochi_service)
    with connect(mochi_service, timeout=5) as sock:
        sock.sendall(frame_start({"op": "ping"}, size))
        _refused(sock, "max_request_payload")
        assert _growth(mochi_service, start) < NOISE
    assert size > DEFAULT_MAX_REQUEST_PAYLOAD


@pytest.mark.parametrize("size", [512 << 20, 2**32 - 1])
def test_a_frame_announcing_a_huge_header_is_refused_before_any_allocation(
    mochi_service: RunningService, size: int
) -> None:
    start = settled_server_rss(mochi_service)
    with connect(mochi_service, timeout=5) as sock:
        sock.sendall(PREFIX.pack(size, 0) + b"{")
        _refused(sock, "max_frame_header")
        assert _growth(mochi_service, start) < NOISE


@pytest.mark.parametrize("kind", ["default", "memory"])
@pytest.mark.parametrize("size", [size for size in ANNOUNCED if size > DEFAULT_MAX_BATCH_DATA])
def test_an_append_announcing_data_over_max_batch_data_is_refused(
    mochi_service: RunningService, topics: None, kind: str, size: int
) -> None:
    start = settled_server_rss(mochi_service)
    with connect(mochi_service, timeout=5) as sock:
        header, payload = append_request(f"limits-{kind}", size)
        send_frame(sock, header, [payload])
        _refused(sock, "max_batch_data")
        assert _growth(mochi_service, start) < NOISE
    _healthy(mochi_service, f"limits-{kind}")


def test_an_append_announcing_data_it_never_streams_commits_no_memory(
    mochi_service: RunningService, topics: None
) -> None:
    """512 MiB of data is within the default limit: the server asks for it, and holds no
    memory for it while nothing arrives."""
    size = ANNOUNCED[0]
    start = settled_server_rss(mochi_service)
    with connect(mochi_service) as sock:
        header, payload = append_request("limits-default", size)
        send_frame(sock, header, [payload])
        assert receive_frame(sock)[0] == {"op": "pull", "size": size}
        assert _growth(mochi_service, start) < NOISE
    _healthy(mochi_service, "limits-default")


def _trickle(sock: socket.socket, service: RunningService, start: int) -> int:
    """Send ``PIECES`` zero pieces slowly; the server's largest memory growth meanwhile."""
    peak = 0
    for _ in range(PIECES):
        sock.sendall(bytes(PIECE))
        time.sleep(0.05)
        peak = max(peak, _growth(service, start))
    return peak


def test_a_slow_sender_of_a_large_request_payload_costs_only_what_it_sent(
    mochi_service: RunningService, topics: None
) -> None:
    size = DEFAULT_MAX_REQUEST_PAYLOAD - 1
    start = settled_server_rss(mochi_service)
    with connect(mochi_service) as sock:
        sock.sendall(frame_start({"op": "ping"}, size))
        peak = _trickle(sock, mochi_service, start)
    assert peak < NOISE + 2 * PIECES * PIECE
    _healthy(mochi_service, "limits-default")


@pytest.mark.parametrize("kind", ["default", "memory"])
def test_a_slow_sender_of_a_large_batch_costs_only_what_it_sent(
    mochi_service: RunningService, topics: None, kind: str
) -> None:
    size = ANNOUNCED[0]
    start = settled_server_rss(mochi_service)
    with connect(mochi_service) as sock:
        header, payload = append_request(f"limits-{kind}", size)
        send_frame(sock, header, [payload])
        assert receive_frame(sock)[0] == {"op": "pull", "size": size}
        sock.sendall(frame_start({"op": "bulk"}, size))
        peak = _trickle(sock, mochi_service, start)
    assert peak < NOISE + PIECES * PIECE
    _healthy(mochi_service, f"limits-{kind}")


def test_the_limits_are_settings_and_a_producer_over_one_is_told_which(
    make_service: Callable[..., RunningService],
) -> None:
    service = make_service(
        max_frame_header=4096, max_request_payload=64 * 1024, max_batch_data=1 << 20
    )
    driver = Driver(backend="mochi", options=service.options())
    driver.create_topic("small-limits")
    producer = driver.open_topic("small-limits").producer()
    assert producer.push({"i": 0}, bytes(1 << 20)).wait(10_000) == 0  # at the limit: stored
    with pytest.raises(DiasporaException, match="max_batch_data"):
        producer.push({"i": 1}, bytes((1 << 20) + 1)).wait(10_000)
    with pytest.raises(DiasporaException, match="max_request_payload"):
        producer.push({"text": "x" * (64 * 1024)}, b"").wait(10_000)
    assert producer.push({"i": 2}, b"fine").wait(10_000) == 1
    with connect(service) as sock:
        sock.sendall(frame_start({"op": "ping", "pad": "x" * 4096}, 0))
        _refused(sock, "max_frame_header")
