"""The server answers malformed requests with errors and keeps serving; clear client failures."""

from __future__ import annotations

import os
import socket
import struct
from array import array
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from diaspora_stream.api import Driver
from diaspora_stream.exceptions import Exception as DiasporaException
from mochi_service import RunningService
from raw_client import connect as _connect

from diaspora_stream_mochi.config import read_group_file
from diaspora_stream_mochi.errors import ConfigurationError, ServerUnavailableError
from diaspora_stream_mochi.protocol import receive_frame, send_frame


def _ask(service: RunningService, header: dict, payload: bytes = b"") -> dict:
    with _connect(service) as sock:
        send_frame(sock, header, [payload])
        return receive_frame(sock)[0]


def _alive(service: RunningService) -> bool:
    return _ask(service, {"op": "ping"}).get("ok") is True


@pytest.mark.parametrize(
    ("header", "payload", "message"),
    [
        ({"op": "nonsense"}, b"", "unknown operation"),
        ({}, b"", "unknown operation"),
        ({"op": "create_topic", "name": 3, "config": {}}, b"", "'name' must be a str"),
        ({"op": "create_topic", "name": "x", "config": {"num_partitions": 0}}, b"", ">= 1"),
        (
            {
                "op": "create_topic",
                "name": "x",
                "config": {"num_partitions": 1, "options": {"type": "z"}},
            },
            b"",
            "topic option type",
        ),
        ({"op": "open_topic", "name": "no-such-topic"}, b"", "does not exist"),
        ({"op": "append", "topic": "no-such-topic", "partition": 0}, b"", "does not exist"),
        ({"op": "append", "topic": "robust", "partition": 5}, b"", "out of range"),
        ({"op": "append", "topic": "robust", "partition": 0, "count": "2"}, b"", "integer"),
        (
            {"op": "append", "topic": "robust", "partition": 0, "count": 4, "segments": 0},
            b"\x00" * 5,
            "shorter than its header",
        ),
        (
            {"op": "append", "topic": "robust", "partition": 0, "count": 1, "segments": 0},
            array("I", [9]).tobytes() + array("Q", [0]).tobytes() + b"{}",
            "metadata sizes",
        ),
        (
            {"op": "append", "topic": "robust", "partition": 0, "count": 1, "shared": 0},
            array("I", [2]).tobytes() + array("Q", [10]).tobytes() + b"{}",
            "none was shared",
        ),
        (
            {"op": "read", "topic": "robust", "partition": 0, "count": 1},
            array("Q", [10**6, 0, 1]).tobytes(),
            "does not exist",
        ),
        ({"op": "subscribe", "topic": "robust", "partition": 0, "start": -1}, b"", ">= 0"),
        ({"op": "ack", "topic": "robust", "partition": 0, "consumer": None}, b"", "'consumer'"),
    ],
)
def test_malformed_requests_get_an_error_and_the_server_keeps_serving(
    mochi_service: RunningService, header: dict, payload: bytes, message: str
) -> None:
    driver = Driver(backend="mochi", options=mochi_service.options())
    if not driver.topic_exists("robust"):
        driver.create_topic("robust")
    answer = _ask(mochi_service, header, payload)
    assert answer["ok"] is False
    assert message in answer["error"]
    assert _alive(mochi_service)


@pytest.mark.parametrize(
    "garbage",
    [
        b"\xff" * 64,  # announced lengths far too large
        struct.pack("!IQ", 5, 0) + b"{{{{{",  # header is not JSON
        struct.pack("!IQ", 2, 0) + b"[]",  # header is not an object
        struct.pack("!IQ", 100, 0) + b"{}",  # closed mid-frame
    ],
)
def test_malformed_frames_never_crash_the_server(
    mochi_service: RunningService, garbage: bytes
) -> None:
    with _connect(mochi_service) as sock:
        sock.sendall(garbage)
        try:
            sock.shutdown(socket.SHUT_WR)
            answer = receive_frame(sock)[0]
        except (EOFError, OSError):  # the server may answer and close before we look
            answer = {"ok": False}
    assert answer["ok"] is False
    assert _alive(mochi_service)


def test_a_client_that_disconnects_mid_batch_loses_nothing_acknowledged(
    mochi_service: RunningService,
) -> None:
    driver = Driver(backend="mochi", options=mochi_service.options(transport="tcp"))
    driver.create_topic("half-batch")
    topic = driver.open_topic("half-batch")
    producer = topic.producer()
    ids = [producer.push({"i": i}, b"%d" % i).wait(10_000) for i in range(10)]
    assert ids == list(range(10))
    with _connect(mochi_service) as sock:
        header = {"op": "append", "topic": "half-batch", "partition": 0, "count": 1}
        tables = array("I", [2]).tobytes() + array("Q", [4]).tobytes()
        send_frame(sock, header, [tables + b"{}"])
        assert receive_frame(sock)[0] == {"op": "pull", "size": 4}
        sock.sendall(struct.pack("!IQ", 15, 4) + b'{"op": "bulk"}' + b"ab")  # then vanish
    assert _alive(mochi_service)
    consumer = topic.consumer("check")
    events = [consumer.pull().wait(10_000) for _ in range(10)]
    assert [(e.event_id, e.metadata) for e in events] == [(i, {"i": i}) for i in range(10)]
    assert producer.push({"i": 10}, b"10").wait(10_000) == 10


def test_a_request_other_than_an_append_while_a_pull_waits_closes_the_connection(
    mochi_service: RunningService,
) -> None:
    driver = Driver(backend="mochi", options=mochi_service.options())
    driver.create_topic("pull-then-other")
    with _connect(mochi_service) as sock:
        header = {"op": "append", "topic": "pull-then-other", "partition": 0, "count": 1}
        tables = array("I", [2]).tobytes() + array("Q", [4]).tobytes()
        send_frame(sock, header, [tables + b"{}"])  # over TCP: pulled over the socket
        assert receive_frame(sock)[0] == {"op": "pull", "size": 4}
        send_frame(sock, {"op": "ping"})  # not the data, not a later append
        with pytest.raises(EOFError):
            receive_frame(sock)
    assert _alive(mochi_service)
    from diaspora_stream_mochi import MochiDriver

    log_driver = MochiDriver(mochi_service.options())
    assert log_driver.open_topic("pull-then-other").event_count(0) == 0  # stored nowhere
    log_driver.close()
    driver.close()


@pytest.mark.parametrize("transport", ["auto", "tcp"])
def test_both_data_paths_store_the_exact_bytes(
    mochi_service: RunningService, transport: str
) -> None:
    driver = Driver(backend="mochi", options=mochi_service.options(transport=transport))
    name = f"paths-{transport}"
    driver.create_topic(name, options={"num_partitions": 2})
    topic = driver.open_topic(name)
    producer = topic.producer(batch_size=4)
    payloads = [bytes(range(i % 256)) * (i + 1) for i in range(40)]
    for i, data in enumerate(payloads):
        producer.push(
            {"i": i}, [data[: len(data) // 2], memoryview(bytearray(data[len(data) // 2 :]))]
        )
    producer.flush().wait()
    consumer = topic.consumer("paths")
    got = {}
    for _ in payloads:
        event = consumer.pull().wait(10_000)
        got[event.metadata["i"]] = bytes(event.data[0])
    assert got == dict(enumerate(payloads))


def test_data_path_choice_is_visible(mochi_service: RunningService) -> None:
    from diaspora_stream.backend.log import AppendRecord, TopicConfig

    from diaspora_stream_mochi import MochiDriver

    for transport, expected in (("auto", "shm"), ("tcp", "bulk")):
        driver = MochiDriver(mochi_service.options(transport=transport))
        name = f"choice-{transport}"
        driver.create_topic(name, TopicConfig(num_partitions=1))
        topic = driver.open_topic(name)
        data = memoryview(b"0123456789")
        assert topic.append(0, [AppendRecord(b"{}", (data,), 10)]) == 0
        assert topic.transfers[expected] == 1
        destination = memoryview(bytearray(4))
        record = topic.read(0, 0, 1)[0]
        topic.read_data(0, record, [(2, 2), (7, 2)], [destination])
        assert bytes(destination) == b"2378"
        topic.close()
        driver.close()


def test_server_down_fails_push_and_pull_with_address_and_group_file(
    make_service: Callable[..., RunningService],
) -> None:
    service = make_service()
    address = read_group_file(service.config.group_file)[0].address
    driver = Driver(backend="mochi", options=service.options(timeout_s=2))
    driver.create_topic("down")
    topic = driver.open_topic("down")
    consumer = topic.consumer("c")
    producer = topic.producer()
    service.kill()
    with pytest.raises(DiasporaException) as pushed:
        producer.push({"x": 1}, b"").wait(10_000)
    with pytest.raises(DiasporaException) as pulled:
        consumer.pull().wait(10_000)
    for error in (pushed.value, pulled.value):
        assert address in str(error)
        assert service.group_file in str(error)


def test_driver_options_are_checked(mochi_service: RunningService, tmp_path) -> None:
    with pytest.raises(ConfigurationError, match="group_file is required"):
        Driver(backend="mochi", options={})
    with pytest.raises(ConfigurationError, match="unknown mochi driver options"):
        Driver(backend="mochi", options=mochi_service.options(colour="red"))
    with pytest.raises(ConfigurationError, match="transport"):
        Driver(backend="mochi", options=mochi_service.options(transport="rdma"))
    with pytest.raises(ConfigurationError, match="does not exist: start the server"):
        Driver(backend="mochi", options={"group_file": str(tmp_path / "none.json")})
    assert issubclass(ServerUnavailableError, DiasporaException)


def test_memory_partitions(mochi_service: RunningService) -> None:
    driver = Driver(backend="mochi", options=mochi_service.options())
    driver.create_topic("in-memory", options={"type": "memory", "num_partitions": 1})
    topic = driver.open_topic("in-memory")
    producer = topic.producer()
    assert [producer.push({"i": i}, b"m%d" % i).wait(10_000) for i in range(5)] == list(range(5))
    consumer = topic.consumer("m", data_selector=lambda m, d: d.make_sub_view(offset=1, size=1))
    events = [consumer.pull().wait(10_000) for _ in range(5)]
    assert [bytes(e.data[0]) for e in events] == [b"%d" % i for i in range(5)]
    assert topic.partitions[0]["type"] == "memory"
    assert orjson.dumps(topic.partitions)


def test_a_selective_consumer_fetches_a_batch_of_selections_per_request(
    mochi_service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from diaspora_stream_mochi.driver import MochiTopic

    driver = Driver(backend="mochi", options=mochi_service.options())
    driver.create_topic("quarter")
    topic = driver.open_topic("quarter")
    producer = topic.producer(batch_size=32)
    for i in range(64):
        producer.push({"i": i}, bytes([i]) * 400)
    producer.flush().wait()
    calls: list[int] = []
    original = MochiTopic._fetch

    def counting(self: MochiTopic, partition: int, ranges: Any, destination: Any) -> None:
        calls.append(len(ranges))
        original(self, partition, ranges, destination)

    monkeypatch.setattr(MochiTopic, "_fetch", counting)
    consumer = topic.consumer(
        "quarter", data_selector=lambda m, d: d.make_sub_view(offset=100, size=100)
    )
    events = [consumer.pull().wait(10_000) for _ in range(64)]
    assert [bytes(e.data[0]) for e in events] == [bytes([i]) * 100 for i in range(64)]
    assert sum(calls) == 64
    assert len(calls) < 64 / 4, f"{len(calls)} data requests for 64 events"


def test_credits_bound_the_batches_the_server_pushes_ahead(mochi_service: RunningService) -> None:
    import time

    from diaspora_stream.backend.log import AppendRecord, TopicConfig

    from diaspora_stream_mochi import MochiDriver

    driver = MochiDriver(mochi_service.options(credits=2, consumer_batch_size=5))
    driver.create_topic("credits", TopicConfig(num_partitions=1))
    topic = driver.open_topic("credits")
    topic.append(0, [AppendRecord(b'{"i":%d}' % i, (), 0) for i in range(100)])

    def feed() -> dict[str, Any]:
        feeds = driver.member(0).call({"op": "feeds"})[0]["feeds"]
        return next(f for f in feeds if f["topic"] == "credits")

    def settled(position: int) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while (state := feed())["position"] < position and time.monotonic() < deadline:
            time.sleep(0.01)
        return state

    assert [r.event_id for r in topic.read(0, 0, 1)] == [0]
    # Two batches of five were pushed, and no credit is left: nothing more can come.
    fixed = {"topic": "credits", "partition": 0, "batch_size": 5, "max_credits": 2}
    assert settled(10) == {**fixed, "position": 10, "credits": 0}
    assert [r.event_id for r in topic.read(0, 1, 4)] == [1, 2, 3, 4]  # batch 1 handed over
    assert settled(15) == {**fixed, "position": 15, "credits": 0}
    ids = [0, 1, 2, 3, 4]
    while len(ids) < 100:
        ids += [r.event_id for r in topic.read(0, ids[-1] + 1, 7)]
    assert ids == list(range(100))
    topic.close()
    driver.close()


def _settled_feed(driver: Any, topic: str, position: int) -> dict[str, Any]:
    """The server's feed of ``topic`` once it pushed up to ``position`` (or after 30 s)."""
    import time

    deadline = time.monotonic() + 30
    while True:
        feeds = driver.member(0).call({"op": "feeds"})[0]["feeds"]
        state = next((f for f in feeds if f["topic"] == topic), None)
        if (state is not None and state["position"] >= position) or time.monotonic() > deadline:
            return state or {}
        time.sleep(0.01)


def test_a_consumers_batch_size_and_max_num_batches_drive_its_feed(
    mochi_service: RunningService,
) -> None:
    """The server pushes batches of the consumer's batch_size, never more than max_num_batches
    of them not yet handed to the consumer (its credits), whatever the driver options say."""
    driver = Driver(backend="mochi", options=mochi_service.options(credits=9))
    driver.create_topic("own-credits")
    topic = driver.open_topic("own-credits")
    producer = topic.producer(batch_size=100)
    for i in range(100):
        producer.push({"i": i})
    producer.flush().wait(10_000)
    consumer = topic.consumer("reader", batch_size=5, max_num_batches=3, data_allocator=None)
    mochi = consumer._impl._log.driver  # type: ignore[attr-defined]
    first = consumer.pull().wait(10_000)
    assert first is not None and first.metadata == {"i": 0}
    # The consumer took one batch of 5 (so granted a credit back); 3 more are in flight.
    expected = {"topic": "own-credits", "partition": 0, "batch_size": 5, "max_credits": 3}
    assert _settled_feed(mochi, "own-credits", 20) == {**expected, "position": 20, "credits": 0}
    ids = [first.event_id] + [consumer.pull().wait(10_000).event_id for _ in range(5)]
    # The sixth pull took two more batches: two credits back, two more batches pushed.
    assert _settled_feed(mochi, "own-credits", 30) == {**expected, "position": 30, "credits": 0}
    while len(ids) < 100:
        ids.append(consumer.pull().wait(10_000).event_id)
    assert ids == list(range(100))
    adaptive = topic.consumer("adaptive", max_num_batches=1, data_allocator=None)
    assert adaptive.pull().wait(10_000).event_id == 0
    feeds = mochi.member(0).call({"op": "feeds"})[0]["feeds"]
    assert {(f["batch_size"], f["max_credits"]) for f in feeds if f["topic"] == "own-credits"} >= {
        (0, 1)
    }
    consumer.close()
    adaptive.close()
    producer.close()
    driver.close()


def test_a_hung_server_fails_futures_after_the_timeout(
    make_service: Callable[..., RunningService],
) -> None:
    import os
    import signal

    service = make_service()
    driver = Driver(backend="mochi", options=service.options(timeout_s=1))
    driver.create_topic("hung")
    producer = driver.open_topic("hung").producer()
    assert producer.push({"i": 0}, b"0").wait(10_000) == 0
    pid = service.members[0].pid
    os.kill(pid, signal.SIGSTOP)
    try:
        with pytest.raises(ServerUnavailableError, match="no answer within 1 s") as failed:
            producer.push({"i": 1}, b"1").wait(30_000)
        assert service.group_file in str(failed.value)
    finally:
        os.kill(pid, signal.SIGCONT)


def test_pipelined_appends_keep_ids_dense_and_fall_back_to_the_stream_alone(
    mochi_service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several batches in flight on one partition: ids follow the order they were sent; a
    batch without room in the shared memory is pulled over the connection instead, while the
    batches after it stay in flight, and the next ones go through shared memory again."""
    from diaspora_stream.backend.log import AppendRecord, TopicConfig

    from diaspora_stream_mochi import MochiDriver
    from diaspora_stream_mochi.shared_memory import SharedArea

    driver = MochiDriver(mochi_service.options())
    if not driver.on_node:
        pytest.skip("no Unix sockets and shared memory here")
    driver.create_topic("pipelined", TopicConfig(num_partitions=1))
    topic = driver.open_topic("pipelined")

    def batch(tag: int) -> list[AppendRecord]:
        data = memoryview(bytes([tag]) * 10)
        return [AppendRecord(b'{"t":%d}' % tag, (data,), 10) for _ in range(2)]

    batches = [batch(tag) for tag in range(5)]  # their data must outlive the appends
    waits = [topic.start_append(0, batches[0]), topic.start_append(0, batches[1])]
    real_allocate = SharedArea.allocate
    monkeypatch.setattr(SharedArea, "allocate", lambda area, size: None)  # no room
    waits.append(topic.start_append(0, batches[2]))
    monkeypatch.setattr(SharedArea, "allocate", real_allocate)
    waits += [topic.start_append(0, batches[3]), topic.start_append(0, batches[4])]
    assert [wait() for wait in waits] == [0, 2, 4, 6, 8]
    assert (topic.transfers["shm"], topic.transfers["bulk"]) == (4, 1)
    fetched = topic.read_full_data(0, topic.read(0, 0, 10))
    assert [bytes(view) for view in fetched] == [bytes([i // 2]) * 10 for i in range(10)]
    topic.close()
    driver.close()


def test_a_chunk_shorter_than_its_index_cuts_that_read_and_the_server_keeps_serving(
    mochi_service: RunningService,
) -> None:
    # Data is sent straight from the chunk file after the answer's header: a chunk damaged
    # on disk cannot be reported in that answer any more, so the connection is closed (the
    # client sees it cut short, never other bytes in place of the missing ones).
    chunks_before = set(mochi_service.config.root.glob("partitions/*/chunk-*.dat"))
    driver = Driver(backend="mochi", options=mochi_service.options())
    driver.create_topic("damaged-chunk")
    producer = driver.open_topic("damaged-chunk").producer(batch_size=1)
    producer.push({"i": 0}, b"x" * 4096)
    producer.flush().wait()
    (chunk,) = set(mochi_service.config.root.glob("partitions/*/chunk-*.dat")) - chunks_before
    os.truncate(chunk, chunk.stat().st_size - 1000)

    with _connect(mochi_service) as sock:
        request = {"op": "read", "topic": "damaged-chunk", "partition": 0, "count": 1}
        send_frame(sock, request, [array("Q", [0, 0, 4096]).tobytes()])
        with pytest.raises(EOFError):
            receive_frame(sock)
    assert _alive(mochi_service)
    driver.close()
