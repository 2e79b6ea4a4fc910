"""Reading a topic back after a fault and counting what was lost, duplicated or torn."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from api_workers import event_content
from fault_campaign import Tally

from diaspora_stream.api import Driver

#: A checked event: (partition, id, metadata, data bytes).
Stored = tuple[int, int, Any, bytes]


def read_topic(driver: Driver, topic: str, at_least: int, quiet_ms: int = 1500) -> list[Stored]:
    """Every event of ``topic`` through a consumer of a fresh name: pulls until ``at_least``
    events came, then until nothing comes for ``quiet_ms`` (a generous bound at first)."""
    consumer = driver.open_topic(topic).consumer(f"judge-{uuid.uuid4().hex[:8]}")
    events: list[Stored] = []
    try:
        while True:
            event = consumer.pull().wait(30_000 if len(events) < at_least else quiet_ms)
            if event is None:
                return events
            data = b"".join(bytes(view) for view in event.data)
            events.append((event.partition_index, event.event_id, event.metadata, data))
    finally:
        consumer.close()


def judge_writers(tally: Tally, events: list[Stored], flushed: Mapping[int, int]) -> None:
    """Count in ``tally`` what ``events`` lack or hold wrongly, given that writer ``w`` flushed
    its events ``0..flushed[w]-1`` (events after those may or may not be there)."""
    judge_events(tally, events, {(w, i) for w, count in flushed.items() for i in range(count)})


def judge_events(
    tally: Tally,
    events: list[Stored],
    acknowledged: set[tuple[int, int]],
    content: Callable[[int, int], tuple[Any, bytes]] = event_content,
) -> None:
    """Count in ``tally`` what ``events`` lack or hold wrongly, given the ``(writer, i)`` of
    the events acknowledged (others may or may not be there, but never wrong or twice)."""
    tally.events += len(acknowledged)
    by_partition: dict[int, list[int]] = defaultdict(list)
    seen: Counter[tuple[int, int]] = Counter()
    for partition, event_id, metadata, data in events:
        by_partition[partition].append(event_id)
        key = (metadata.get("w"), metadata.get("i")) if isinstance(metadata, dict) else None
        if key is None or not all(isinstance(part, int) for part in key):
            tally.found("torn", f"partition {partition} id {event_id}: metadata {metadata!r}")
            continue
        seen[key] += 1
        if (metadata, data) != content(*key):
            tally.found("torn", f"partition {partition} id {event_id}: wrong bytes for {key}")
    for partition, ids in by_partition.items():
        if ids != list(range(len(ids))):
            tally.found("torn", f"partition {partition}: ids not dense from 0: {ids[:20]}...")
    twice = {key: count for key, count in seen.items() if count > 1}
    if twice:
        tally.found("duplicated", f"stored more than once: {list(twice)[:10]}", len(twice))
    missing = sorted(key for key in acknowledged if key not in seen)
    if missing:
        tally.found("lost", f"flushed but missing: {missing[:10]}", len(missing))
