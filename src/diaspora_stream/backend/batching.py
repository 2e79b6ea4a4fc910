"""The generic batch paths: ``push_many`` and ``pull_many`` of any backend, one event at a time.

A backend without a batch path of its own gets these (the defaults of
:class:`~diaspora_stream.backend.full.ProducerInterface` and
:class:`~diaspora_stream.backend.full.ConsumerInterface`). They give the same events, ids and
errors as a loop of ``push`` or ``pull``; the only extra work is :func:`preflight`, which runs
the topic's validator and serializer on every event of a batch before the first is pushed, so
that a refused event leaves nothing of the batch stored.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..batches import BatchEvent, BatchFuture, batch_error
from ..futures import Completion, _timeout_seconds

if TYPE_CHECKING:
    from .full import ConsumerInterface, ProducerInterface, TopicHandleInterface

__all__ = [
    "PullResult",
    "collector_paused",
    "deadline_of",
    "preflight",
    "pull_each",
    "push_each",
    "remaining_ms",
]

#: What a batch pull gives: the events taken, and the error that stopped it (``None``: none).
PullResult = tuple[list[Any], "BaseException | None"]


def _runs_here(component: Any) -> bool:
    # A bridge's component that only the foreign side can run says so (runs_in_process).
    return bool(getattr(component, "runs_in_process", True))


def preflight(topic: TopicHandleInterface, events: Sequence[BatchEvent]) -> BaseException | None:
    """Run the topic's validator and serializer on each event; the first refusal, retyped by
    :func:`~diaspora_stream.batches.batch_error`, or ``None`` when every event passes."""
    validator = topic.validator
    validate = None
    if not getattr(validator, "accepts_everything", False) and _runs_here(validator):
        validate = validator.validate
    serialize = topic.serializer.serialize if _runs_here(topic.serializer) else None
    if validate is None and serialize is None:
        return None
    for index, (metadata, data, _) in enumerate(events):
        try:
            if validate is not None:
                validate(metadata, data)
            if serialize is not None:
                serialize(metadata)
        except Exception as error:  # noqa: BLE001 - reported with the event's index
            return batch_error(index, error)
    return None


def push_each(
    producer: ProducerInterface, events: Sequence[BatchEvent], partition: int | None
) -> BatchFuture:
    """Push ``events`` one by one through ``producer.push``; the future of all their ids."""
    push = producer.push
    parts: list[tuple[Completion, int, int]] = []
    for index, (metadata, data, size) in enumerate(events):
        future = push(metadata, data, size, partition)
        completion = future._completion
        if completion.done:  # refused at once (a component failed): name the event
            try:
                completion.wait(0)
            except Exception as error:  # noqa: BLE001 - raised by the batch's wait
                completion = Completion.failed(batch_error(index, error))
        parts.append((completion, getattr(future, "_position", 0), 1))
    return BatchFuture(parts)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block, if it is enabled.

    For a backend decoding a batch of events in one go (never while it waits): the events of
    a batch all stay alive until the batch is returned, so the collections their allocation
    would trigger midway only scan and promote them, generation after generation, which costs
    more than decoding them. The collector runs again at the next allocation after the block.
    A collector the application disabled stays disabled; one that another thread disables
    during the block is enabled again at its end.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def remaining_ms(deadline: float | None) -> int:
    """Whole milliseconds left until ``deadline``, rounded up (``-1``: no deadline; ``0``:
    passed)."""
    if deadline is None:
        return -1
    return max(0, math.ceil((deadline - time.monotonic()) * 1000.0))


def deadline_of(timeout_ms: Any) -> float | None:
    """The ``time.monotonic()`` deadline of a ``timeout_ms`` argument (D1 semantics)."""
    timeout = _timeout_seconds(timeout_ms)
    return None if timeout is None else time.monotonic() + timeout


def pull_each(consumer: ConsumerInterface, max_events: int, deadline: float | None) -> PullResult:
    """Pull up to ``max_events`` events one by one until ``deadline``; stop after an
    end-of-stream sentinel (it is the last event of the list)."""
    events: list[Any] = []
    pull = consumer.pull
    while len(events) < max_events:
        try:
            event = pull().wait(remaining_ms(deadline))
        except Exception as error:  # noqa: BLE001 - the caller raises it in its turn
            return events, error
        if event is None:
            break
        events.append(event)
        if event.event_id is None:
            break
    return events, None
