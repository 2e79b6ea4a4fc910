"""Helpers every rule module shares: reading a topic back, an event's bytes, threads.

Every helper goes through the public API only (:mod:`diaspora_stream.api`): a third-party
backend runs the tests that use them.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from diaspora_stream.api import (
    Consumer,
    DataDescriptor,
    Driver,
    Event,
    Producer,
    TopicHandle,
)

from .backend import BackendUnderTest
from .time_bound import SuiteTimeout

__all__ = [
    "LOWER",
    "QUIET_MS",
    "UPPER",
    "WAIT_MS",
    "alphabet_topic",
    "OVERSHOOT_S",
    "WaitOvershot",
    "assert_no_more_events",
    "bounded_call",
    "consumer_name",
    "data_bytes",
    "event_key",
    "pull_within",
    "push_and_flush",
    "read_all",
    "run_in_threads",
    "select_bytes",
    "take",
    "wait_within",
]

#: How long a test waits for something that must happen (an event, a flush), in ms.
WAIT_MS = 10_000
#: How long a test watches for events that must *not* arrive, in ms.
QUIET_MS = 100
#: Seconds a timed wait may return after its timeout before the suite calls it overshot.
OVERSHOOT_S = 5.0


LOWER = b"abcdefghijklmnopqrstuvwxyz"


UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def consumer_name(prefix: str = "c") -> str:
    """A consumer name that no other consumer of the run uses (so it starts at the beginning)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def data_bytes(event: Event) -> bytes:
    """The bytes of an event's data, its buffers concatenated."""
    return b"".join(bytes(memoryview(buffer).cast("B")) for buffer in event.data)


def event_key(event: Event) -> tuple[int, int, str, bytes]:
    """``(partition, id, metadata as canonical JSON, data)``: what identifies a stored event."""
    assert event.event_id is not None, "a consumer returned the NoMoreEvents sentinel as an event"
    return (
        event.partition_index,
        event.event_id,
        json.dumps(event.metadata, sort_keys=True),
        data_bytes(event),
    )


class WaitOvershot(SuiteTimeout):
    """A timed wait returned long after its timeout: counted as a hang of the timed call (so
    the circuit breaker ends a run on a backend whose waits overshoot, as on one that hangs)."""


def pull_within(consumer: Consumer, timeout_ms: int) -> Event | None:
    """``consumer.pull().wait(timeout_ms)``, failing with :class:`WaitOvershot` if it returns
    more than :data:`OVERSHOOT_S` seconds after its timeout."""
    return wait_within(consumer.pull(), timeout_ms)


def wait_within(future: Any, timeout_ms: int, call: str = "pull().wait") -> Any:
    """``future.wait(timeout_ms)`` (``timeout_ms`` ≥ 0), failing with :class:`WaitOvershot` if
    it returns more than :data:`OVERSHOOT_S` seconds after its timeout; ``call`` names the
    waited call in the message."""
    started = time.monotonic()
    result = future.wait(timeout_ms)
    elapsed = time.monotonic() - started
    if elapsed > timeout_ms / 1000 + OVERSHOOT_S:
        raise WaitOvershot(
            f"{call}({timeout_ms}) returned after {elapsed:.1f} s: a timed wait must return "
            "within its timeout, in milliseconds"
        )
    return result


def take(consumer: Consumer, count: int, wait_ms: int = WAIT_MS) -> list[Event]:
    """Pull ``count`` events, failing if one does not arrive within ``wait_ms``."""
    events: list[Event] = []
    while len(events) < count:
        event = pull_within(consumer, wait_ms)
        assert event is not None and event.event_id is not None, (
            f"only {len(events)} of {count} expected events arrived "
            f"(the next pull waited {wait_ms} ms)"
        )
        events.append(event)
    return events


def assert_no_more_events(consumer: Consumer, quiet_ms: int = QUIET_MS) -> None:
    """Check that no further event arrives within ``quiet_ms``."""
    extra = pull_within(consumer, quiet_ms)
    assert extra is None or extra.event_id is None, f"unexpected extra event: {extra!r}"


def read_all(topic: TopicHandle, count: int, **consumer_options: Any) -> list[Event]:
    """Read exactly ``count`` events with a fresh consumer (and check that no more arrive)."""
    consumer = topic.consumer(consumer_name(), **consumer_options)
    try:
        events = take(consumer, count)
        assert_no_more_events(consumer)
    finally:
        consumer.close()
    return events


def push_and_flush(producer: Producer, events: Iterable[tuple[Any, Any]]) -> list[int]:
    """Push ``(metadata, data)`` pairs, flush, and return the events' ids."""
    futures = [producer.push(metadata, data) for metadata, data in events]
    assert producer.flush().wait(WAIT_MS) is True, "flush did not complete in time"
    ids = [future.wait(WAIT_MS) for future in futures]
    assert all(isinstance(event_id, int) for event_id in ids), f"push futures gave {ids}"
    return [int(event_id) for event_id in ids if event_id is not None]


def run_in_threads(
    targets: Sequence[Callable[[], None]], timeout_s: float = 60.0
) -> list[BaseException]:
    """Run each callable in its own thread; return the errors they raised (join with timeout)."""
    errors: list[BaseException] = []
    lock = threading.Lock()

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=guarded, args=(target,), daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout_s
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            errors.append(TimeoutError(f"a thread did not finish within {timeout_s} s"))
    return errors


def alphabet_topic(backend: BackendUnderTest, driver: Driver) -> TopicHandle:
    """A topic holding one event whose data is two segments: a-z then A-Z (DataSelectionTest)."""
    topic = driver.open_topic(backend.create_topic(driver))
    push_and_flush(topic.producer(), [({}, [LOWER, UPPER])])
    return topic


def select_bytes(
    topic: TopicHandle, selector: Callable[[Any, DataDescriptor], DataDescriptor | None]
) -> bytes:
    """Consume the only event of ``topic`` through ``selector`` and an exact allocator."""
    events = read_all(
        topic,
        1,
        data_selector=selector,
        data_allocator=lambda metadata, descriptor: (
            [bytearray(descriptor.size)] if descriptor.size else []
        ),
    )
    return data_bytes(events[0])


def bounded_call(call: Callable[[], Any], limit_s: float, what: str) -> tuple[Any, float]:
    """Run ``call`` in a daemon thread; return ``(result, seconds taken)``.

    Fails with an assertion naming ``what`` if the call does not return within ``limit_s`` (the
    thread is left behind: a call that overshoots its own timeout must not hang the suite).
    """
    outcome: list[Any] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            failure.append(error)

    thread = threading.Thread(target=run, name=f"bounded: {what}", daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(limit_s)
    elapsed = time.monotonic() - start
    assert not thread.is_alive(), f"{what} did not return within {limit_s:g} s"
    if failure:
        raise failure[0]
    return outcome[0], elapsed
