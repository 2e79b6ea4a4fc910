"""``diaspora-ctl forward``: copy events, metadata and data, from topics to topics (§7.7, D9).

One worker thread per policy pulls events from the source with a consumer named
``a/x->b/y`` (which fetches the data unless a ``data_allocator`` plugin is given, in which case
the plugin's buffers receive it), pushes metadata and data to the destination, and acknowledges
each event only once its push has completed: a daemon restarted after a graceful stop resumes
exactly after the last forwarded event. SIGINT / SIGTERM flush everything and exit 0.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from ..api import Consumer, Driver, Event, FutureUint, Producer, TopicHandle
from .common import push_metadata
from .errors import CommandError, one_line
from .forward_config import ForwardConfig, PolicySpec, load_forward_config, load_plugin
from .log import setup_logging
from .parsing import ArgumentParser, add_logging_argument
from .signals import ShutdownFlag

__all__ = ["ForwardWorker", "forward_command"]

PULL_WAIT_MS = 200
#: Pushes in flight per policy before the worker waits for the oldest one.
WINDOW = 256
#: How long a stopping worker waits for its last pushes to be stored.
DRAIN_TIMEOUT_S = 30.0
_ERROR_PAUSE_S = 0.5

_EPILOG = """\
configuration (YAML):
  drivers:
    local:
      type: files
      options: {root_path: /tmp/data}
  forward:
    - from: local/source-topic
      to: local/dest-topic
      data_selector: my_module:select      # optional, a Python callable
      data_allocator: my_module:allocate   # optional, a Python callable

example:
  diaspora-ctl forward --config forward.yaml"""


class ForwardWorker(threading.Thread):
    """Forwards the events of one policy until :attr:`stop` is set."""

    def __init__(
        self,
        policy: PolicySpec,
        consumer: Consumer,
        producer: Producer,
        logger: logging.Logger,
    ) -> None:
        super().__init__(name=f"forward {policy.label}", daemon=True)
        self.policy = policy
        self.consumer = consumer
        self.producer = producer
        self.stop = threading.Event()
        self.forwarded = 0
        self._logger = logger
        self._in_flight: deque[tuple[Event, FutureUint]] = deque()
        # A source that declares no acknowledgements (e.g. a C++ driver through the binding
        # bridge) is forwarded all the same; a restarted daemon then forwards it from the start.
        self._acknowledge = consumer.topic.driver.capabilities.acknowledgements

    def _settle(self, block_until: int, deadline: float | None = None) -> None:
        """Acknowledge the completed pushes at the head of the window, waiting for the oldest
        ones while more than ``block_until`` are in flight (until ``deadline``)."""
        in_flight = self._in_flight
        last: dict[int, Event] = {}
        try:
            while in_flight:
                event, future = in_flight[0]
                if not future.completed:
                    if len(in_flight) <= block_until:
                        break
                    if deadline is None and self.stop.is_set():
                        break  # the drain at shutdown waits for them
                    if deadline is not None and time.monotonic() >= deadline:
                        break
                    with contextlib.suppress(Exception):  # its error is reported below
                        future.wait(PULL_WAIT_MS)
                    continue
                in_flight.popleft()
                try:
                    future.wait(0)
                    self.forwarded += 1
                except Exception as error:  # noqa: BLE001 - logged; the event is skipped
                    self._logger.error(
                        "Error in forward worker %s: event %s of partition %d not forwarded: %s",
                        self.policy.label,
                        event.event_id,
                        event.partition_index,
                        one_line(error),
                    )
                last[event.partition_index] = event
        finally:
            if self._acknowledge:
                for event in last.values():
                    event.acknowledge()

    def _forward(self, event: Event) -> None:
        future = self.producer.push(push_metadata(event.metadata), event.data)
        self._in_flight.append((event, future))
        self._settle(WINDOW)

    def run(self) -> None:
        """The worker loop."""
        label = self.policy.label
        self._logger.info("Forward worker started: %s", label)
        if not self._acknowledge:
            self._logger.warning(
                "Forward worker %s: the source declares no acknowledgements; a restarted daemon "
                "forwards its events again from the start",
                label,
            )
        at_end = False
        while not self.stop.is_set():
            try:
                event = self.consumer.pull().wait(PULL_WAIT_MS)
                if event is None or event.event_id is None:
                    self._settle(0)
                    if not at_end:
                        self._logger.info(
                            "Reached end of topic %s (%d event(s) forwarded)",
                            self.policy.source,
                            self.forwarded,
                        )
                        at_end = True
                    continue
                at_end = False
                self._forward(event)
            except Exception as error:  # noqa: BLE001 - logged, the worker goes on
                self._logger.error("Error in forward worker %s: %s", label, one_line(error))
                self.stop.wait(_ERROR_PAUSE_S)
        self._drain()
        self._logger.info(
            "Forward worker stopped: %s (%d event(s) forwarded)", label, self.forwarded
        )

    def _drain(self) -> None:
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        try:
            self.producer.flush().wait(int(DRAIN_TIMEOUT_S * 1000))
            self._settle(0, deadline)
        except Exception as error:  # noqa: BLE001 - logged at shutdown
            self._logger.error("Failed to flush %s: %s", self.policy.label, one_line(error))
        if self._in_flight:
            self._logger.warning(
                "%d event(s) of %s not confirmed by the destination; they will be forwarded "
                "again after a restart",
                len(self._in_flight),
                self.policy.label,
            )


class _Forwarder:
    """Drivers, topics and workers of a running daemon."""

    def __init__(self, config: ForwardConfig, logger: logging.Logger) -> None:
        self.config = config
        self.logger = logger
        self.drivers: dict[str, Driver] = {}
        self.topics: dict[str, TopicHandle] = {}
        self.workers: list[ForwardWorker] = []

    def _topic(self, alias: str, name: str) -> TopicHandle:
        key = f"{alias}/{name}"
        if key not in self.topics:
            self.topics[key] = self.drivers[alias].open_topic(name)
        return self.topics[key]

    def build(self) -> None:
        """Create every driver, then each policy's consumer, producer and worker."""
        for alias, spec in self.config.drivers.items():
            self.logger.info("Creating driver '%s' (type=%s)", alias, spec.type)
            try:
                self.drivers[alias] = Driver(backend=spec.type, options=spec.options)
            except Exception as error:  # noqa: BLE001 - reported as one line
                raise CommandError(
                    f"Failed to create driver '{alias}' (type={spec.type}): {one_line(error)}"
                ) from None
        for policy in self.config.policies:
            plugins: dict[str, Any] = {
                key: load_plugin(spec)
                for key, spec in (
                    ("data_selector", policy.data_selector),
                    ("data_allocator", policy.data_allocator),
                )
                if spec is not None
            }
            try:
                source = self._topic(policy.source_alias, policy.source_topic)
                destination = self._topic(policy.destination_alias, policy.destination_topic)
                consumer = source.consumer(policy.consumer_name, **plugins)
                producer = destination.producer()
            except Exception as error:  # noqa: BLE001 - reported as one line
                raise CommandError(f"Diaspora error: {one_line(error)}") from None
            self.workers.append(ForwardWorker(policy, consumer, producer, self.logger))
            self.logger.info("Created forward policy: %s", policy.label)

    def close(self) -> None:
        """Stop the workers (each flushes its producer) and release everything."""
        for worker in self.workers:
            worker.stop.set()
        for worker in self.workers:
            if worker.is_alive():
                worker.join()
            for closable in (worker.consumer, worker.producer):
                try:
                    closable.close()
                except Exception as error:  # noqa: BLE001 - the others must still be closed
                    self.logger.error(
                        "Failed to close %s: %s", worker.policy.label, one_line(error)
                    )
        for topic in self.topics.values():
            with contextlib.suppress(Exception):
                topic.close()
        for driver in self.drivers.values():
            with contextlib.suppress(Exception):
                driver.close()


def forward_command(argv: Sequence[str]) -> int:
    """Run ``forward`` with the arguments after ``forward``."""
    parser = ArgumentParser(
        "diaspora-ctl forward",
        "Run the forwarding daemon: copy events (metadata and data) between topics.",
        epilog=_EPILOG,
    )
    parser.add_argument("--config", required=True, metavar="FILE", help="YAML configuration")
    add_logging_argument(parser)
    args = parser.parse_args(argv)
    logger = setup_logging(args.logging)
    shutdown = ShutdownFlag()
    shutdown.install()
    config = load_forward_config(args.config)
    logger.info(
        "Loaded %d driver(s) and %d forwarding policy(ies)",
        len(config.drivers),
        len(config.policies),
    )
    forwarder = _Forwarder(config, logger)
    try:
        forwarder.build()
        for worker in forwarder.workers:
            worker.start()
        logger.info("Forwarding daemon running. Press Ctrl+C to stop.")
        while not shutdown.wait(0.2):
            pass
        logger.info("Shutting down forwarding daemon (%s)...", shutdown.signal_name or "stop")
    finally:
        forwarder.close()
    logger.info("Forwarding daemon stopped.")
    return 0
