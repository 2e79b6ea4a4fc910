"""The server process: hosts partitions, answers RPCs, pulls producers' data, feeds consumers.

``python -m diaspora_stream_mochi.server CONFIG_JSON RANK`` runs one member of a group (the
``diaspora-mochi`` command starts them). A member listens on TCP and, for clients on its node,
on a Unix socket (abstract namespace) over which they hand it shared memory for their batches'
data. One thread per connection; a connection's first frame must carry the service's access
token; every request is checked and a malformed one gets an error answer (a malformed *frame*
closes that connection), never a crash of the server. The server reads no memory but its own
and the shared memory a client handed it, only within that memory's bounds. Every length a
client announces is checked against a setting (:mod:`.limits`) before anything is allocated
for it, and what is received lands in memory committed as the bytes arrive.
"""

from __future__ import annotations

import ctypes
import json
import logging
import mmap
import os
import signal
import socket
import socketserver
import sys
import threading
import time
import uuid
from array import array
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from . import memory_access
from .access import denied_message, load_or_create_token, token_matches
from .acknowledger import Acknowledger
from .catalog import Catalog, TopicExistsError
from .config import PARTITION_TYPES, ServerConfig
from .errors import FrameTooLargeError, ProtocolError
from .limits import LimitExceededError, check_limit, frame_limit_error
from .memory_reserve import MemoryReserve
from .protocol import FrameReader, error_answer, send_frame
from .shared_memory import SharedMemoryError, map_shared
from .storage import CompletedError, FilePartition, MemoryPartition, Partition

__all__ = ["MochiServer", "RequestError", "main"]

log = logging.getLogger("diaspora_stream_mochi.server")

#: Events per pushed batch when the consumer asked for adaptive batches.
ADAPTIVE_PUSH_MAX = 4096
#: Largest reusable landing buffer per connection.
MAX_SCRATCH = 64 * 1024 * 1024
#: Most metadata bytes in one pushed batch.
PUSH_MAX_BYTES = 8 * 1024 * 1024
#: Largest first frame (the ``hello`` carrying the token): nothing larger is read unauthenticated.
HELLO_MAX_HEADER = 4096
#: Longest wait, and most bytes read and dropped, between refusing a request and closing: the
#: client reads the refusal instead of a reset caused by its unread bytes.
_LINGER_S = 1.0
_LINGER_BYTES = 4 * 1024 * 1024
#: Longest consumer name an acknowledgement may carry, in UTF-8 bytes (names are stored and
#: listed back to clients).
MAX_CONSUMER_NAME = 4096


class RequestError(Exception):
    """A request is invalid; its message goes back to the client, with ``kind``."""

    def __init__(self, message: str, kind: str = "request") -> None:
        super().__init__(message)
        #: The answer's ``kind``: ``"completed"`` for an append to a completed partition (the
        #: client raises ``PartitionCompleted``), else ``"request"``.
        self.kind = kind


def _completed(header: dict[str, Any]) -> RequestError:
    """The refusal of an append to a completed partition."""
    return RequestError(
        f"partition {header.get('partition')} of topic {header.get('topic')!r} is complete: it "
        "takes no more events (push to another partition or topic)",
        "completed",
    )


def _field(header: dict[str, Any], key: str, kind: type, minimum: int | None = None) -> Any:
    value: Any = header.get(key)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise RequestError(f"request field {key!r} must be an integer, got {value!r}")
    if kind is not int and not isinstance(value, kind):
        raise RequestError(f"request field {key!r} must be a {kind.__name__}, got {value!r}")
    if minimum is not None and value < minimum:
        raise RequestError(f"request field {key!r} must be >= {minimum}, got {value}")
    return value


def _consumer_name(header: dict[str, Any]) -> str:
    """The request's consumer name, checked to be short enough to store and list."""
    name: str = _field(header, "consumer", str)
    if len(name.encode("utf-8", "surrogatepass")) > MAX_CONSUMER_NAME:
        raise RequestError(
            f"consumer name of more than {MAX_CONSUMER_NAME} bytes (UTF-8): use a shorter name"
        )
    return name


def _table(payload: memoryview, offset: int, code: str, count: int) -> tuple[array[int], int]:
    table = array(code)
    end = offset + count * table.itemsize
    if end > payload.nbytes:
        raise RequestError("request payload is shorter than its header announces")
    table.frombytes(payload[offset:end])
    if sys.byteorder != "little":
        table.byteswap()
    return table, end


class MochiServer:
    """One member of a group: its catalog connection and the partitions it hosts."""

    def __init__(self, config: ServerConfig, rank: int) -> None:
        self.config = config
        self.rank = rank
        self.catalog = Catalog(config.root / "catalog.sqlite")
        self.token = load_or_create_token(config.root) if config.access_token else None
        self.reserve = MemoryReserve(config.memory_reserve) if config.memory_reserve else None
        self._partitions: dict[tuple[str, int], Partition] = {}
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._scratch = threading.local()  # one handler thread per connection
        # .acker: the connection's Acknowledger; .reader: its FrameReader.
        self._connection = threading.local()
        self._ops: dict[str, Callable[[socket.socket, dict[str, Any], memoryview], None]] = {
            "ping": self._ping,
            "create_topic": self._create_topic,
            "open_topic": self._open_topic,
            "list_topics": self._list_topics,
            "append": self._append,
            "count": self._count,
            "read": self._read,
            "subscribe": self._subscribe,
            "ack": self._ack,
            "load_acks": self._load_acks,
            "consumer_names": self._consumer_names,
            "mark_complete": self._mark_complete,
            "feeds": self._feeds,
            "share": self._share,
        }
        #: Live consumer feeds: id -> {"topic", "partition", "batch_size", "max_credits",
        #: "position" (next event id to push), "credits" (batches it may still push)}.
        self._live_feeds: dict[int, dict[str, Any]] = {}

    # ------------------------------------------------------------------ dispatch

    def serve_connection(self, sock: socket.socket) -> None:
        """Answer the requests of one connection until the client closes it."""
        local = sock.family == socket.AF_UNIX
        if not local:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = self._connection.reader = FrameReader(sock, receive_fds=local)
        #: Shared memory the client handed over (Unix connections): its mapping, or None.
        self._connection.shared = None
        #: Requests that arrived while this thread waited for a batch's bulk frame.
        self._connection.early = deque()
        try:
            if not self._authenticate(sock, reader):
                return
            acker = self._connection.acker = Acknowledger(sock)
            try:
                self._serve(sock, acker, reader)
            finally:
                acker.close()
        finally:
            reader.close_fds()
            shared: mmap.mmap | None = self._connection.shared
            if shared is not None:
                shared.close()

    def _authenticate(self, sock: socket.socket, reader: FrameReader) -> bool:
        """Read the connection's first frame, small and bounded: a ``hello`` with the token.
        Anything else gets one error answer and the connection is closed."""
        reader.max_header, reader.max_payload = HELLO_MAX_HEADER, 0
        try:
            header = reader.header()
        except (EOFError, OSError):
            return False
        except ProtocolError:
            header = {}
        if header.get("op") == "hello" and (
            self.token is None or token_matches(self.token, header.get("token"))
        ):
            reader.max_header = self.config.max_frame_header
            reader.max_payload = self.config.max_request_payload
            return self._answer(sock, {"ok": True})
        log.warning("connection refused: no valid access token in its first frame")
        self._answer_error(sock, denied_message(), "access")
        return False

    def _serve(self, sock: socket.socket, acker: Acknowledger, reader: FrameReader) -> None:
        # Appends are answered by the acknowledger once committed; anything else this thread
        # sends waits until those answers went out, so answers keep the order of requests.
        early: deque[tuple[dict[str, Any], memoryview]] = self._connection.early
        while not self.stopping.is_set():
            try:
                header, payload = early.popleft() if early else reader.frame()
            except (EOFError, ConnectionError):
                return
            except FrameTooLargeError as error:
                self._refuse(sock, acker, frame_limit_error(error))
                return
            except ProtocolError as error:
                if acker.drain():
                    self._answer_error(sock, str(error), "protocol")
                return
            except OSError:
                return
            operation = self._ops.get(header.get("op"))  # type: ignore[arg-type]
            try:
                if operation is None:
                    raise RequestError(
                        f"unknown operation {header.get('op')!r}; known: {sorted(self._ops)}"
                    )
                if operation != self._append and not acker.drain():
                    return
                operation(sock, header, payload)
                reader.close_fds()  # descriptors sent with anything but a share are refused
            except RequestError as error:
                if not acker.drain() or not self._answer_error(sock, str(error), error.kind):
                    return
            except LimitExceededError as error:
                self._refuse(sock, acker, error)
                return
            except (EOFError, ConnectionError, ProtocolError):
                return  # the client went away mid-request: nothing was stored
            except Exception as error:
                log.exception("request %r failed", header.get("op"))
                if not acker.drain() or not self._answer_error(
                    sock, f"server error: {error}", "internal"
                ):
                    return

    @staticmethod
    def _answer(sock: socket.socket, header: dict[str, Any]) -> bool:
        try:
            send_frame(sock, header)
            return True
        except OSError:
            return False

    def _answer_error(self, sock: socket.socket, message: str, kind: str) -> bool:
        return self._answer(sock, error_answer(message, kind))

    def _refuse(self, sock: socket.socket, acker: Acknowledger, error: LimitExceededError) -> None:
        """Answer a request over a limit (after the answers of earlier ones), then end the
        connection: its further bytes follow a length the server did not accept."""
        log.warning("request refused, connection closed: %s", error)
        if not (acker.drain() and self._answer_error(sock, str(error), "limit")):
            return
        try:
            sock.shutdown(socket.SHUT_WR)
            # Bytes the client sent meanwhile are read and dropped (a bounded number, for a
            # bounded time), so that closing does not reset the connection before the client
            # read the answer.
            sock.settimeout(_LINGER_S)
            scratch = bytearray(64 * 1024)
            dropped = 0
            while dropped < _LINGER_BYTES:
                count = sock.recv_into(scratch)
                if not count:
                    break
                dropped += count
        except OSError:
            pass

    # ------------------------------------------------------------------ catalog

    def _ping(self, sock: socket.socket, header: dict[str, Any], payload: memoryview) -> None:
        answer: dict[str, Any] = {"ok": True, "rank": self.rank, "pid": os.getpid()}
        if self.reserve is not None:
            answer["memory_reserve"] = self.reserve.stats()
        send_frame(sock, answer)

    def _create_topic(
        self, sock: socket.socket, header: dict[str, Any], payload: memoryview
    ) -> None:
        name = _field(header, "name", str)
        config = _field(header, "config", dict)
        count = _field(config, "num_partitions", int, 1)
        options = config.get("options", {})
        if not isinstance(options, dict):
            raise RequestError("topic options must be an object")
        kind = options.get("type", "default")
        if kind not in PARTITION_TYPES:
            raise RequestError(
                f"topic option type must be one of {list(PARTITION_TYPES)}, got {kind!r}"
            )
        if count > 4096:
            raise RequestError(f"num_partitions {count} is more than this server accepts (4096)")
        try:
            partitions = self.catalog.create_topic(name, config, kind, self.config.servers)
        except TopicExistsError:
            send_frame(sock, error_answer(f"Topic {name!r} already exists", "exists"))
            return
        send_frame(sock, {"ok": True, "partitions": partitions})

    def _open_topic(self, sock: socket.socket, header: dict[str, Any], payload: memoryview) -> None:
        name = _field(header, "name", str)
        found = self.catalog.topic(name)
        if found is None:
            send_frame(sock, error_answer(f"Topic {name!r} does not exist", "missing"))
            return
        config, partitions = found
        send_frame(sock, {"ok": True, "config": config, "partitions": partitions})

    def _list_topics(
        self, sock: socket.socket, header: dict[str, Any], payload: memoryview
    ) -> None:
        send_frame(sock, {"ok": True, "topics": self.catalog.topics()})

    # ---------------------------------------------------------------- partitions

    def partition(self, header: dict[str, Any]) -> Partition:
        """The hosted partition a request names (opened at first use)."""
        topic = _field(header, "topic", str)
        index = _field(header, "partition", int, 0)
        key = (topic, index)
        with self._lock:
            partition = self._partitions.get(key)
            if partition is not None:
                return partition
            found = self.catalog.topic(topic)
            if found is None:
                raise RequestError(f"Topic {topic!r} does not exist")
            _, partitions = found
            if index >= len(partitions):
                raise RequestError(
                    f"partition {index} out of range: topic {topic!r} has {len(partitions)}"
                )
            entry = partitions[index]
            if entry["member"] != self.rank:
                raise RequestError(
                    f"partition {index} of {topic!r} is hosted by member {entry['member']}, "
                    f"not by member {self.rank}"
                )
            if entry["type"] == "memory":
                partition = MemoryPartition()
            else:
                partition = FilePartition(
                    self.config.root / "partitions" / entry["uuid"],
                    sync=self.config.sync,
                    chunk_size=self.config.chunk_size,
                )
            if self.catalog.is_complete(topic, index):
                partition.closed_for_writes = partition.complete = True
            self._partitions[key] = partition
            return partition

    def _count(self, sock: socket.socket, header: dict[str, Any], payload: memoryview) -> None:
        """The partition's committed event count, and whether it is complete (the count is
        then final)."""
        partition = self.partition(header)
        with partition.lock:
            count, complete = partition.count, partition.complete
        send_frame(sock, {"ok": True, "count": count, "complete": complete})

    def _mark_complete(
        self, sock: socket.socket, header: dict[str, Any], payload: memoryview
    ) -> None:
        """Mark a hosted partition complete: refuse appends from now on, commit the batches
        written before, record the mark durably, then answer (and wake the feeds)."""
        partition = self.partition(header)
        topic, index = header["topic"], header["partition"]  # checked by partition()
        if not partition.complete:
            ticket = partition.close_for_writes()
            try:
                partition.commit(ticket)
                self.catalog.mark_complete(topic, index)
            except BaseException:
                with partition.lock:
                    partition.closed_for_writes = partition.complete
                raise
            with partition.lock:
                partition.complete = True
                partition.appended.notify_all()
        send_frame(sock, {"ok": True})

    def _append(self, sock: socket.socket, header: dict[str, Any], payload: memoryview) -> None:
        partition = self.partition(header)
        count = _field(header, "count", int, 1)
        meta_sizes, offset = _table(payload, 0, "I", count)
        data_sizes, offset = _table(payload, offset, "Q", count)
        metadata = payload[offset:]
        if sum(meta_sizes) != metadata.nbytes:
            raise RequestError("metadata sizes do not add up to the metadata sent")
        if partition.closed_for_writes:  # refused before its data is taken (checked again)
            raise _completed(header)
        total = sum(data_sizes)
        check_limit("an append's data", total, self.config.max_batch_data, "max_batch_data")
        started = time.perf_counter()
        if not total:
            path, data = "none", memoryview(b"")
        elif "shared" in header:
            path, data = "shm", self._from_shared(header, total, partition)
        else:
            path, data = "bulk", self._landing(total, partition)
            self._pull_over_connection(header, data)
        pulled = time.perf_counter() - started
        try:
            first, ticket = partition.write(meta_sizes, metadata, data_sizes, data)
        except CompletedError:
            raise _completed(header) from None
        answer = {"ok": True, "first_id": first, "path": path, "pull_s": pulled}
        self._connection.acker.submit(partition, ticket, answer)

    def _pull_over_connection(self, header: dict[str, Any], data: memoryview) -> None:
        """Ask the client for a batch's data and receive it into ``data``.

        The request goes out between the answers of earlier batches (their acknowledger keeps
        sending them); a pipelining client may have sent later appends before it saw the
        request: they are kept, in order, and handled once this batch is stored.
        """
        request: dict[str, Any] = {"op": "pull", "size": data.nbytes}
        if "seq" in header:
            request["seq"] = header["seq"]
        if not self._connection.acker.send_now(request):
            raise ConnectionError("connection lost")
        reader: FrameReader = self._connection.reader
        while True:
            try:
                # The bulk frame may be as long as the batch (checked against max_batch_data).
                frame = reader.header(max(reader.max_payload, data.nbytes))
                if frame.get("op") == "bulk":
                    break
                if frame.get("op") != "append":
                    raise ProtocolError(f"expected the bulk frame of {data.nbytes} bytes")
                if reader.pending > reader.max_payload:
                    raise FrameTooLargeError("payload", reader.pending, reader.max_payload)
            except FrameTooLargeError as error:
                raise frame_limit_error(error) from None
            self._connection.early.append((frame, reader.payload()))
        if reader.pending != data.nbytes:
            raise ProtocolError(f"expected a bulk frame of {data.nbytes} bytes")
        reader.payload_into(data)

    def _landing(self, size: int, partition: Partition) -> memoryview:
        """Where a batch's data lands: for partitions that keep it (memory), the reserve while
        it lasts, then a fresh buffer; else this connection's reusable buffer, whose pages are
        already mapped (writing into fresh pages costs more than the copy itself)."""
        if isinstance(partition, MemoryPartition):
            reserved = self.reserve.take(size) if self.reserve is not None else None
            return reserved if reserved is not None else memory_access.fresh_buffer(size)
        return self._scratch_view(size)

    def _scratch_view(self, size: int) -> memoryview:
        """``size`` bytes of this connection's reusable buffer (fresh beyond MAX_SCRATCH); its
        pages are committed as data is received into them, not when a batch is announced."""
        if size > MAX_SCRATCH:
            return memory_access.lazy_buffer(size)
        scratch: memoryview | None = getattr(self._scratch, "buffer", None)
        if scratch is None or scratch.nbytes < size:
            scratch = memory_access.lazy_buffer(max(size, 1 << 20))
            self._scratch.buffer = scratch
        return scratch[:size]

    def _share(self, sock: socket.socket, header: dict[str, Any], payload: memoryview) -> None:
        """Map the shared memory (a sealed memfd) the client sent with this frame."""
        fd = self._connection.reader.take_fd()
        if fd is None:
            raise RequestError(
                "a share request needs a memfd attached (SCM_RIGHTS, on the Unix socket)"
            )
        if self._connection.shared is not None:
            os.close(fd)
            raise RequestError("this connection already shares memory (one area per connection)")
        try:
            self._connection.shared = map_shared(fd, self.config.max_shared_bytes)
        except (SharedMemoryError, OSError) as error:
            raise RequestError(f"shared memory refused: {error}") from None
        send_frame(sock, {"ok": True})

    def _from_shared(self, header: dict[str, Any], size: int, partition: Partition) -> memoryview:
        """The ``size`` bytes at offset ``header["shared"]`` of the connection's shared memory,
        checked to lie inside it; copied out for partitions that keep data in memory (the
        client reuses the area once answered)."""
        shared: mmap.mmap | None = self._connection.shared
        if shared is None:
            raise RequestError("the request names shared memory, but none was shared")
        offset = _field(header, "shared", int, 0)
        if offset + size > len(shared):
            raise RequestError(
                f"shared range [{offset}, {offset + size}) lies outside the "
                f"{len(shared)} bytes shared"
            )
        source = memoryview(shared)[offset : offset + size]
        if not isinstance(partition, MemoryPartition):
            return source  # written to the chunk before the answer: no copy of ours
        landing = self._landing(size, partition)
        # ctypes releases the GIL for the copy.
        ctypes.memmove(
            memory_access.buffer_address(landing), memory_access.buffer_address(source), size
        )
        return landing

    def _read(self, sock: socket.socket, header: dict[str, Any], payload: memoryview) -> None:
        """Send the requested byte ranges straight from where they are stored (memory, or the
        page cache through ``sendfile``): no copy into a buffer of the server first."""
        partition = self.partition(header)
        count = _field(header, "count", int, 0)
        triples, _ = _table(payload, 0, "Q", 3 * count)
        stored = partition.count
        total = 0
        requests = []
        for index in range(count):
            event_id, offset, size = triples[3 * index : 3 * index + 3]
            if event_id >= stored:
                raise RequestError(f"event {event_id} does not exist (partition has {stored})")
            if offset + size > partition.data_size(event_id):
                raise RequestError(f"range [{offset}, {offset + size}) exceeds event {event_id}")
            requests.append((event_id, offset, size))
            total += size
        sources = partition.data_sources(requests)
        try:
            send_frame(sock, {"ok": True, "size": total}, sources)
        except ConnectionError:
            raise
        except OSError as error:
            # The answer is cut short: this connection cannot carry another frame.
            log.error(
                "read of %r partition %s cut short: %s",
                header.get("topic"),
                header.get("partition"),
                error,
            )
            raise ConnectionError(f"answer to a read cut short: {error}") from error

    def _feeds(self, sock: socket.socket, header: dict[str, Any], payload: memoryview) -> None:
        with self._lock:
            feeds = [dict(feed) for feed in self._live_feeds.values()]
        send_frame(sock, {"ok": True, "feeds": feeds})

    def _ack(self, sock: socket.socket, header: dict[str, Any], payload: memoryview) -> None:
        """Record a consumer's position in a hosted partition, at one of its stored events."""
        consumer = _consumer_name(header)
        event_id = _field(header, "event_id", int, 0)
        partition = self.partition(header)
        stored = partition.count
        if event_id >= stored:
            raise RequestError(
                f"cannot acknowledge event {event_id}: the partition holds {stored} event(s)"
            )
        self.catalog.acknowledge(consumer, header["topic"], header["partition"], event_id)
        send_frame(sock, {"ok": True})

    def _load_acks(self, sock: socket.socket, header: dict[str, Any], payload: memoryview) -> None:
        topic = _field(header, "topic", str)
        consumer = _consumer_name(header)
        positions = self.catalog.acknowledgements(consumer, topic)
        send_frame(sock, {"ok": True, "positions": {str(k): v for k, v in positions.items()}})

    def _consumer_names(
        self, sock: socket.socket, header: dict[str, Any], payload: memoryview
    ) -> None:
        """Every consumer name with a position in the topic: a JSON list in the payload (the
        answer's header stays small however many names there are)."""
        topic = _field(header, "topic", str)
        if self.catalog.topic(topic) is None:
            raise RequestError(f"Topic {topic!r} does not exist")
        names = self.catalog.consumer_names(topic)
        send_frame(sock, {"ok": True, "count": len(names)}, [orjson.dumps(names)])

    # ------------------------------------------------------------------ feeding

    def _subscribe(self, sock: socket.socket, header: dict[str, Any], payload: memoryview) -> None:
        """Push metadata batches to a consumer while it grants credits (one per batch)."""
        partition = self.partition(header)
        position = _field(header, "start", int, 0)
        batch_size = _field(header, "batch_size", int, 0)
        grants = [_field(header, "credits", int, 1)]
        closed = threading.Event()
        frames: FrameReader = self._connection.reader  # read by the credit thread from now on
        send_frame(sock, {"ok": True})
        feed = {
            "topic": header["topic"],
            "partition": header["partition"],
            "batch_size": batch_size,
            "max_credits": grants[0],
        }
        key = id(feed)

        def publish() -> None:
            with self._lock:
                self._live_feeds[key] = {**feed, "position": position, "credits": grants[0]}

        def read_credits() -> None:
            try:
                while True:
                    message, _ = frames.frame()
                    granted = message.get("credits")
                    if message.get("op") != "credit" or not isinstance(granted, int) or granted < 1:
                        break
                    with partition.lock:
                        grants[0] += granted
                        partition.appended.notify_all()
                    publish()
            except (EOFError, OSError, ProtocolError):
                pass
            closed.set()
            with partition.lock:
                partition.appended.notify_all()

        reader = threading.Thread(target=read_credits, daemon=True, name="mochi-credits")
        reader.start()
        limit = batch_size if batch_size > 0 else ADAPTIVE_PUSH_MAX
        publish()
        try:
            while not closed.is_set() and not self.stopping.is_set():
                with partition.lock:
                    while not (grants[0] > 0 and partition.count > position) and not (
                        closed.is_set() or self.stopping.is_set()
                    ):
                        partition.appended.wait(0.5)
                    if closed.is_set() or self.stopping.is_set():
                        break
                    grants[0] -= 1
                    count = min(limit, partition.count - position)
                meta_sizes, data_sizes, metadata = partition.metadata(position, count)
                while len(metadata) > PUSH_MAX_BYTES and count > 1:
                    count = max(1, count // 2)
                    meta_sizes, data_sizes = meta_sizes[:count], data_sizes[:count]
                    metadata = metadata[: sum(meta_sizes)]
                tables = array("I", meta_sizes).tobytes() + array("Q", data_sizes).tobytes()
                send_frame(
                    sock,
                    {"op": "batch", "first_id": position, "count": count},
                    [tables, metadata],
                )
                position += count
                publish()
        except OSError:
            pass
        finally:
            with self._lock:
                self._live_feeds.pop(key, None)
            closed.set()
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            reader.join(timeout=5)

    def close(self) -> None:
        """Close every partition and the catalog."""
        self.stopping.set()
        with self._lock:
            for partition in self._partitions.values():
                with partition.lock:
                    partition.appended.notify_all()
                partition.close()
            self._partitions.clear()
        self.catalog.close()


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer | _UnixServer

    def handle(self) -> None:
        self.server.mochi.serve_connection(self.request)


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], mochi: MochiServer) -> None:
        self.mochi = mochi
        super().__init__(address, _Handler)


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, name: str, mochi: MochiServer) -> None:
        self.mochi = mochi
        super().__init__("\0" + name, _Handler)


def member_file(root: Path, rank: int) -> Path:
    """Where member ``rank`` announces its address once it listens."""
    return root / "members" / f"{rank}.json"


def run(config: ServerConfig, rank: int) -> None:
    """Run member ``rank`` until SIGTERM or SIGINT."""
    config.root.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=config.root / f"server-{rank}.log",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    mochi = MochiServer(config, rank)
    port = config.port + rank if config.port else 0
    tcp = _TCPServer((config.host, port), mochi)
    host, bound = tcp.server_address[:2]
    address = f"tcp://{host!s}:{bound}"
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    local = f"diaspora-mochi/{uuid.uuid4().hex}"
    unix = _UnixServer(local, mochi)
    servers = (tcp, unix)
    threads = [
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2})
        for server in servers
    ]
    for thread in threads:
        thread.start()
    announce = member_file(config.root, rank)
    announce.parent.mkdir(parents=True, exist_ok=True)
    temporary = announce.with_suffix(".tmp")
    entry = {"address": address, "local": local, "rank": rank, "pid": os.getpid()}
    temporary.write_text(json.dumps(entry))
    os.replace(temporary, announce)
    log.info("member %d listening on %s", rank, address)
    stop.wait()
    log.info("member %d stopping", rank)
    for server in servers:
        server.shutdown()
        server.server_close()
    mochi.close()
    for thread in threads:
        thread.join()
    announce.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    """Entry of a server process: ``CONFIG_JSON RANK``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m diaspora_stream_mochi.server CONFIG_JSON RANK", file=sys.stderr)
        return 2
    config = ServerConfig.from_dict(json.loads(args[0]), Path.cwd())
    run(config, int(args[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
