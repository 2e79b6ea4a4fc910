"""The producer and consumer FIFOs served by ``diaspora-ctl fifo``."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from typing import Any

from ..api import Consumer, Event, FutureUint, Producer
from .common import compact_json
from .errors import one_line
from .fifo_io import FifoReader, open_writer, write_all

__all__ = ["ConsumerFifo", "ProducerFifo", "format_event_line"]

#: Pushed lines wait at most this long in a partly filled batch.
FLUSH_DELAY_S = 0.1
_RETRY_S = 0.1
_ERROR_PAUSE_S = 0.5


class ProducerFifo:
    """Turns each line written to a FIFO into one event.

    ``raw`` lines become JSON string metadata, whatever characters they hold (D9); ``json``
    lines are parsed. Empty lines are skipped. The FIFO keeps serving after a writer closes it.
    """

    def __init__(
        self,
        path: str,
        topic: str,
        producer: Producer,
        line_format: str,
        created: bool,
        logger: logging.Logger,
    ) -> None:
        self.path = path
        self.topic = topic
        self.producer = producer
        self.format = line_format
        self.created = created
        self.reader = FifoReader(path)
        self._logger = logger
        self._pending: deque[tuple[FutureUint, str]] = deque()
        self._unflushed_since: float | None = None

    @property
    def fd(self) -> int:
        """The descriptor to poll."""
        return self.reader.fd

    def on_readable(self) -> None:
        """Read the available lines and push them."""
        lines, closed = self.reader.read_lines()
        for line in lines:
            if line:
                self._push(line)
        if closed:
            self._logger.info("Writer closed FIFO: %s", self.path)
            self.flush()
        if self.reader.error is not None:
            raise self.reader.error

    def _push(self, line: bytes) -> None:
        text = line.decode("utf-8", "replace")
        try:
            if self.format == "json":
                metadata: Any = line
            else:
                if "\ufffd" in text and b"\xef\xbf\xbd" not in line:
                    self._logger.warning(
                        "Line of FIFO '%s' is not valid UTF-8; invalid bytes replaced by U+FFFD",
                        self.path,
                    )
                metadata = compact_json(text)
            future = self.producer.push(metadata)
        except Exception as error:  # noqa: BLE001 - one bad line must not stop the daemon
            self._logger.error("Failed to push event: %s", one_line(error))
            return
        self._pending.append((future, text))
        if self._unflushed_since is None:
            self._unflushed_since = time.monotonic()
        self._logger.debug("Pushed to '%s': %s", self.topic, text)

    def check(self, now: float) -> None:
        """Report failed pushes; flush a batch that waited :data:`FLUSH_DELAY_S`."""
        pending = self._pending
        while pending and pending[0][0].completed:
            future, text = pending.popleft()
            try:
                future.wait(0)
            except Exception as error:  # noqa: BLE001 - reported, the daemon goes on
                self._logger.error(
                    "Failed to push event to '%s': %s (line: %s)", self.topic, one_line(error), text
                )
        if self._unflushed_since is not None and now - self._unflushed_since >= FLUSH_DELAY_S:
            self.flush()

    def flush(self) -> None:
        """Send the partly filled batches now."""
        if self._unflushed_since is not None:
            self._unflushed_since = None
            self.producer.flush()

    def close(self) -> None:
        """Read what is left, store every pushed event, close; delete the FIFO if we made it."""
        try:
            lines, _ = self.reader.read_lines()
        except OSError:
            lines = []
        for line in lines:
            if line:
                self._push(line)
        self.reader.close()
        self.producer.close()
        self.check(time.monotonic())
        if self.created:
            try:
                os.unlink(self.path)
            except OSError as error:
                self._logger.warning("Could not remove FIFO '%s': %s", self.path, error.strerror)


def format_event_line(event: Event, line_format: str) -> bytes:
    """The line written for ``event``: ``raw`` writes a string metadata as is and anything else
    as compact JSON; ``json`` always writes compact JSON."""
    metadata = event.metadata
    if line_format == "raw" and isinstance(metadata, str):
        text = metadata
    else:
        text = compact_json(metadata)
    return text.encode("utf-8", "surrogatepass") + b"\n"


class ConsumerFifo(threading.Thread):
    """Writes the metadata of each event of a topic to a FIFO, one line per event.

    The thread waits for a reader (as long as it takes), and when the reader goes away it waits
    for the next one and writes the interrupted line again: no event is skipped.
    """

    def __init__(
        self,
        path: str,
        topic: str,
        consumer: Consumer,
        line_format: str,
        logger: logging.Logger,
    ) -> None:
        super().__init__(name=f"fifo-consumer {path}", daemon=True)
        self.path = path
        self.topic = topic
        self.consumer = consumer
        self.format = line_format
        self.stop = threading.Event()
        self._logger = logger
        self._fd: int | None = None

    def _connect(self) -> bool:
        """Open the FIFO once a reader has it open; ``False`` if asked to stop first."""
        waiting_logged = False
        failure: str | None = None
        while not self.stop.is_set():
            try:
                self._fd = open_writer(self.path)
            except OSError as error:
                message = f"{error.strerror or error}"
                if message != failure:
                    self._logger.error("Cannot open consumer FIFO '%s': %s", self.path, message)
                    failure = message
            else:
                if self._fd is not None:
                    self._logger.info("Reader connected to consumer FIFO '%s'", self.path)
                    return True
                if not waiting_logged:
                    self._logger.info("Waiting for a reader on consumer FIFO '%s'", self.path)
                    waiting_logged = True
            self.stop.wait(_RETRY_S)
        return False

    def _disconnect(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def run(self) -> None:
        """Pull events and write their lines until :attr:`stop` is set."""
        line: bytes | None = None
        while not self.stop.is_set():
            try:
                if self._fd is None and not self._connect():
                    break
                if line is None:
                    event = self.consumer.pull().wait(100)
                    if event is None or event.event_id is None:
                        continue
                    line = format_event_line(event, self.format)
                assert self._fd is not None
                if write_all(self._fd, line, self.stop):
                    line = None
                else:
                    self._logger.info(
                        "Reader of consumer FIFO '%s' went away; waiting for a new one", self.path
                    )
                    self._disconnect()
            except Exception as error:  # noqa: BLE001 - the thread must not die
                self._logger.error("Error in consumer FIFO '%s': %s", self.path, one_line(error))
                self.stop.wait(_ERROR_PAUSE_S)
        self._disconnect()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread, wait for it, and release the consumer."""
        self.stop.set()
        if self.is_alive():
            self.join(timeout)
        self.consumer.close()
