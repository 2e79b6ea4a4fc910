"""``diaspora-ctl fifo``: a daemon bridging named pipes and topics (reference-api.md §7.6, D9).

Write ``PATH -> TOPIC [(batch_size=N, format=raw|json)]`` to the control FIFO to make ``PATH`` a
producer FIFO (each line written to it becomes an event of ``TOPIC``), or
``PATH <- TOPIC [(...)]`` to stream the metadata of the events of ``TOPIC`` into the existing
FIFO ``PATH``, one line per event. SIGINT / SIGTERM stop the daemon gracefully (exit 0).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from collections.abc import Sequence

from ..api import Driver, TopicHandle
from .common import make_driver
from .errors import CommandError, one_line
from .fifo_endpoints import ConsumerFifo, ProducerFifo
from .fifo_grammar import ControlCommand, batch_size_option, format_option, parse_control_command
from .fifo_io import FifoReader, is_fifo
from .log import setup_logging
from .options import extract_hierarchical, merged_config
from .parsing import HIERARCHICAL_HELP, ArgumentParser, add_driver_arguments, add_logging_argument
from .signals import ShutdownFlag

__all__ = ["FifoDaemon", "fifo_command"]

POLL_MS = 100

_EPILOG = (
    """\
control commands (one per line written to the control FIFO):
  PATH -> TOPIC [(batch_size=N, format=raw|json)]   lines written to PATH become events
  PATH <- TOPIC [(batch_size=N, format=raw|json)]   events are written to the FIFO PATH

"""
    + HIERARCHICAL_HELP
    + """

example:
  diaspora-ctl fifo --driver files --driver.root_path /tmp/x --control-file /tmp/ctl &
  echo "/tmp/in -> t" > /tmp/ctl; echo "hello" > /tmp/in"""
)


def _parser() -> ArgumentParser:
    parser = ArgumentParser(
        "diaspora-ctl fifo",
        "Run the FIFO daemon: named pipes as producers and consumers of topics.",
        epilog=_EPILOG,
    )
    add_driver_arguments(parser)
    parser.add_argument(
        "--control-file",
        required=True,
        metavar="PATH",
        help="control FIFO to create (an existing file at PATH is replaced)",
    )
    add_logging_argument(parser)
    return parser


class FifoDaemon:
    """The daemon's state: control FIFO, producer FIFOs, consumer threads, open topics."""

    def __init__(self, driver: Driver, control_path: str, logger: logging.Logger) -> None:
        self.driver = driver
        self.control_path = control_path
        self.logger = logger
        self.producers: dict[str, ProducerFifo] = {}
        self.consumers: dict[str, ConsumerFifo] = {}
        self.topics: dict[str, TopicHandle] = {}
        self.control: FifoReader | None = None

    # ------------------------------------------------------------------ start-up

    def open_control(self) -> None:
        """Create the control FIFO (replacing any file there) and open it."""
        path = self.control_path
        try:
            parent = os.path.dirname(os.path.abspath(path))
            os.makedirs(parent, exist_ok=True)
            if os.path.lexists(path):
                os.unlink(path)
            os.mkfifo(path, 0o666)
            self.control = FifoReader(path)
        except OSError as error:
            raise CommandError(
                f"Failed to create control FIFO '{path}': {error.strerror or error}"
            ) from None
        self.logger.info("Control FIFO: %s", path)
        self.logger.info("  producer: <fifo-path> -> <topic> [(batch_size=N, format=raw|json)]")
        self.logger.info("  consumer: <fifo-path> <- <topic> [(batch_size=N, format=raw|json)]")

    # ------------------------------------------------------------------ commands

    def _topic(self, name: str) -> TopicHandle:
        topic = self.topics.get(name)
        if topic is None:
            topic = self.topics[name] = self.driver.open_topic(name)
        return topic

    def handle_line(self, line: str) -> None:
        """Execute one control line."""
        command = parse_control_command(line, self.logger)
        if command is None:
            return
        self.logger.info("Received command: %s", command.describe())
        if command.kind == "producer":
            self._add_producer(command)
        else:
            self._add_consumer(command)

    def _registered(self, path: str) -> bool:
        if path in self.producers:
            self.logger.warning("FIFO '%s' already registered", path)
            return True
        if path in self.consumers:
            self.logger.warning("Consumer FIFO '%s' already registered", path)
            return True
        return False

    def _add_producer(self, command: ControlCommand) -> None:
        path = command.path
        if self._registered(path):
            return
        try:
            topic = self._topic(command.topic)
            producer = topic.producer(batch_size=batch_size_option(command, self.logger))
        except Exception as error:  # noqa: BLE001 - logged, the daemon goes on
            self.logger.error("Failed to create producer: %s", one_line(error))
            return
        line_format = format_option(command, self.logger)
        created = False
        try:
            if not os.path.lexists(path):
                os.mkfifo(path, 0o666)
                created = True
            elif not is_fifo(path):
                raise OSError(f"'{path}' exists but is not a FIFO")
            self.producers[path] = ProducerFifo(
                path, command.topic, producer, line_format, created, self.logger
            )
        except OSError as error:
            self.logger.error(
                "Failed to set up producer FIFO '%s': %s", path, error.strerror or error
            )
            producer.close()
            if created:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            return
        self.logger.info("Producer FIFO '%s' -> topic '%s'", path, command.topic)

    def _add_consumer(self, command: ControlCommand) -> None:
        path = command.path
        if self._registered(path):
            return
        if not os.path.lexists(path):
            self.logger.error(
                "Consumer FIFO '%s' does not exist. Please create it first with mkfifo.", path
            )
            return
        if not is_fifo(path):
            self.logger.error("'%s' exists but is not a FIFO", path)
            return
        try:
            consumer = self._topic(command.topic).consumer(
                path, batch_size=batch_size_option(command, self.logger), data_allocator=None
            )
        except Exception as error:  # noqa: BLE001 - logged, the daemon goes on
            self.logger.error("Failed to create consumer: %s", one_line(error))
            return
        worker = ConsumerFifo(
            path, command.topic, consumer, format_option(command, self.logger), self.logger
        )
        self.consumers[path] = worker
        worker.start()
        self.logger.info("Consumer FIFO '%s' <- topic '%s'", path, command.topic)

    # ------------------------------------------------------------------ main loop

    def _on_control_readable(self) -> None:
        assert self.control is not None
        lines, _ = self.control.read_lines()
        for raw in lines:
            self.handle_line(raw.decode("utf-8", "replace"))
        if self.control.error is not None:
            self.logger.warning(
                "Control FIFO '%s' is gone (%s); creating it again",
                self.control_path,
                self.control.error.strerror or self.control.error,
            )
            self.open_control()

    def _serve(self, producer: ProducerFifo) -> None:
        """Read a producer FIFO; one that fails (e.g. removed) is unregistered, the daemon
        goes on."""
        try:
            producer.on_readable()
        except OSError as error:
            self.logger.error(
                "Producer FIFO '%s' failed: %s; unregistered",
                producer.path,
                error.strerror or error,
            )
            del self.producers[producer.path]
            try:
                producer.close()
            except Exception as close_error:  # noqa: BLE001 - already reported
                self.logger.debug("Closing '%s': %s", producer.path, one_line(close_error))

    def run(self, shutdown: ShutdownFlag | threading.Event) -> None:
        """Serve until ``shutdown`` is set."""
        assert self.control is not None
        while not shutdown.is_set():
            poller = select.poll()
            poller.register(self.control.fd, select.POLLIN)
            by_fd = {}
            for producer in self.producers.values():
                poller.register(producer.fd, select.POLLIN)
                by_fd[producer.fd] = producer
            for fd, _ in poller.poll(POLL_MS):
                if fd == self.control.fd:
                    self._on_control_readable()
                elif fd in by_fd:
                    self._serve(by_fd[fd])
            now = time.monotonic()
            for producer in self.producers.values():
                producer.check(now)

    # ------------------------------------------------------------------ shutdown

    def shutdown(self) -> None:
        """Close the control FIFO, store every pushed event, stop the consumer threads."""
        self.logger.info("Shutting down daemon...")
        if self.control is not None:
            self.control.close()
            with contextlib.suppress(OSError):
                os.unlink(self.control_path)
        for path, producer in self.producers.items():
            try:
                producer.close()
            except Exception as error:  # noqa: BLE001 - the others must still be closed
                self.logger.error("Failed to close producer FIFO '%s': %s", path, one_line(error))
        for consumer in self.consumers.values():
            consumer.stop.set()
        for path, consumer in self.consumers.items():
            try:
                consumer.close()
            except Exception as error:  # noqa: BLE001
                self.logger.error("Failed to close consumer FIFO '%s': %s", path, one_line(error))
        for topic in self.topics.values():
            with contextlib.suppress(Exception):
                topic.close()
        self.producers.clear()
        self.consumers.clear()
        self.topics.clear()


def fifo_command(argv: Sequence[str]) -> int:
    """Run ``fifo`` with the arguments after ``fifo``."""
    remaining, options = extract_hierarchical(argv)
    args = _parser().parse_args(remaining)
    logger = setup_logging(args.logging)
    driver_config = merged_config(args.driver_config, options["driver"], "driver options")
    driver = make_driver(args.driver, driver_config, logger)
    shutdown = ShutdownFlag()
    shutdown.install()
    daemon = FifoDaemon(driver, args.control_file, logger)
    try:
        daemon.open_control()
        try:
            daemon.run(shutdown)
        except Exception as error:  # noqa: BLE001 - reported after the cleanup
            raise CommandError(f"Error in daemon operation: {one_line(error)}") from None
        finally:
            daemon.shutdown()
    finally:
        driver.close()
    logger.info("FIFO daemon stopped.")
    return 0
