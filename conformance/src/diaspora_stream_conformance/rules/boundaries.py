"""Rules about sizes: big events, big batches, and every boundary in between.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

from diaspora_stream.api import DataDescriptor, Driver, TopicHandle

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    WAIT_MS,
    data_bytes,
    push_and_flush,
    read_all,
    select_bytes,
)
from ..levels import MUST

__all__ = ["BoundaryRules"]

MiB = 1 << 20
#: Sizes of the big events: above chunk sizes a backend is likely to use, a few bytes past a
#: power of two so that the last chunk is a short one.
BIG_EVENT_SIZES = {
    "2MiB+3": 2 * MiB + 3,
    "16MiB+5": 16 * MiB + 5,
    "32MiB+7": 32 * MiB + 7,
    "64MiB+11": 64 * MiB + 11,
}
#: Sizes of metadata strings: around 2^8, 2^16 (a 16-bit length field), past 1 and 4 MiB.
METADATA_SIZES = (255, 256, 257, 65_533, 65_535, 65_536, 65_537, MiB + 17, 4 * MiB + 5)
#: Partitions of the many-partitions rule: past 2^7 and past two decimal digits.
MANY_PARTITIONS = 129
#: Batch sizes checked: one below, at and one above every power of two from 64 to 16384.
BATCH_COUNTS = [n for k in range(6, 15) for n in (2**k - 1, 2**k, 2**k + 1)]


def _boundaries(size: int) -> list[int]:
    """Every power of two from 4 KiB with 4 bytes of the event of ``size`` bytes after it."""
    return [1 << k for k in range(12, 64) if (1 << k) + 4 <= size]


def _selected(topic: TopicHandle, view: Any) -> bytes:
    """The only event of ``topic`` read through ``view(descriptor)``, with an exact allocator."""

    def selector(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor:
        chosen: DataDescriptor = view(descriptor)
        return chosen

    return select_bytes(topic, selector)


class BoundaryRules(ConformanceBase):
    """Rules about sizes: big events, big batches, and every boundary in between."""

    @MUST
    def test_large_event_round_trip(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """An event with more than 8 MiB of data comes back byte for byte (whole and sub view)."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        payload = os.urandom(8 * 1024 * 1024 + 3)
        push_and_flush(topic.producer(), [({"large": True}, [payload[:1000], payload[1000:]])])
        (event,) = read_all(topic, 1)
        assert data_bytes(event) == payload
        middle = select_bytes(
            topic,
            lambda metadata, descriptor: descriptor.make_sub_view(offset=4_000_000, size=123_457),
        )
        assert middle == payload[4_000_000:4_123_457]

    @MUST
    def test_ten_thousand_events_in_one_batch(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """10 000 events pushed into one batch are all stored by one flush, with dense ids."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer(batch_size=10_000)
        futures = [producer.push({"i": i}, b"%d" % i) for i in range(10_000)]
        assert producer.flush().wait(3 * WAIT_MS) is True
        assert [future.wait(0) for future in futures] == list(range(10_000))
        events = read_all(topic, 10_000, data_allocator=None)
        assert all(event.metadata["i"] == event.event_id for event in events)

    @MUST
    @pytest.mark.parametrize("size", list(BIG_EVENT_SIZES.values()), ids=list(BIG_EVENT_SIZES))
    def test_big_event_whole_and_across_every_power_of_two(
        self, driver: Driver, diaspora_backend: BackendUnderTest, size: int
    ) -> None:
        """A big event comes back byte for byte, whole and across every power-of-two offset.

        A big event comes back byte for byte: whole, and through views whose pieces straddle
        every power-of-two offset from 4 KiB up (where chunked storage splits).
        """
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        payload = random.Random(size).randbytes(size)
        cut = size // 3 + 1
        push_and_flush(topic.producer(), [({"size": size}, [payload[:cut], payload[cut:]])])
        (event,) = read_all(topic, 1)
        whole = data_bytes(event)
        assert len(whole) == size, f"the event came back with {len(whole)} of {size} bytes"
        if whole != payload:
            first = next(n for n in range(size) if whole[n] != payload[n])
            raise AssertionError(f"the event's bytes differ from byte {first} on")
        del event, whole
        boundaries = _boundaries(size)
        straddling = [(boundary - 3, 7) for boundary in boundaries]
        got = _selected(topic, lambda d: d.make_unstructured_view(segments=straddling))
        for n, (offset, length) in enumerate(straddling):
            piece = got[n * 7 : n * 7 + 7]
            assert piece == payload[offset : offset + length], (
                f"the 7 bytes around offset {boundaries[n]} (a power of two) came back wrong"
            )
        for boundary in boundaries[-4:]:
            start = boundary - 4099
            tail = _selected(topic, lambda d, start=start: d.make_sub_view(offset=start, size=size))
            assert tail == payload[start:], (
                f"a sub view from {start} to the end ({size - start} bytes, across offset "
                f"{boundary}) came back wrong"
            )
        count = (size - MiB - 5) // MiB + 1
        blocks = _selected(
            topic,
            lambda d: d.make_strided_view(
                offset=MiB - 5, num_blocks=count, block_size=10, gap_size=MiB - 10
            ),
        )
        expected = b"".join(payload[MiB - 5 + n * MiB : MiB + 5 + n * MiB] for n in range(count))
        assert blocks == expected, "a strided view straddling every MiB came back wrong"

    @MUST
    def test_batches_around_every_power_of_two(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Batches of 2^k - 1, 2^k and 2^k + 1 events keep every event once, in order.

        Batches of 2^k - 1, 2^k and 2^k + 1 events (k = 6..14), each stored by one flush,
        keep every event exactly once, in order, with its own metadata and bytes.
        """
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        producer = topic.producer("batches", batch_size=max(BATCH_COUNTS) + 1)
        expected: list[tuple[int, int]] = []
        for count in BATCH_COUNTS:
            for i in range(count):
                producer.push({"n": count, "i": i}, b"%d.%d" % (count, i))
                expected.append((count, i))
            assert producer.flush().wait(3 * WAIT_MS) is True, f"the flush of {count} failed"
        events = read_all(topic, len(expected), batch_size=4096)
        got = [(event.metadata["n"], event.metadata["i"]) for event in events]
        if got != expected:
            seen = set(got)
            lost = [key for key in expected if key not in seen]
            raise AssertionError(
                f"{len(lost)} events lost (first: event {lost[0][1]} of the batch of {lost[0][0]})"
                if lost
                else "events duplicated or out of push order"
            )
        assert [event.event_id for event in events] == list(range(len(expected)))
        for event in events:
            assert data_bytes(event) == b"%d.%d" % (event.metadata["n"], event.metadata["i"])

    @MUST
    def test_big_metadata_round_trip(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Metadata of every size around 2^8 and 2^16 bytes, and past 1 and 4 MiB, comes back equal.

        A backend that keeps a metadata length in 8 or 16 bits, or cuts metadata at a fixed
        frame size, returns other metadata or fails to read it back.
        """
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        texts = {
            size: "".join(chr(97 + (n * 7 + size) % 26) for n in range(size))
            for size in METADATA_SIZES
        }
        push_and_flush(
            topic.producer(),
            [({"size": size, "text": text}, b"%d" % size) for size, text in texts.items()],
        )
        events = read_all(topic, len(texts))
        for event, (size, text) in zip(events, texts.items(), strict=True):
            got = event.metadata
            assert isinstance(got, dict) and got.get("size") == size, (
                f"the event with a {size}-character metadata string came back as "
                f"{str(got)[:80]!r}..."
            )
            assert got["text"] == text, (
                f"a {size}-character metadata string came back with {len(got['text'])} "
                "characters or other ones"
            )
            assert data_bytes(event) == b"%d" % size

    @MUST
    def test_many_partitions_keep_their_own_events(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A topic of 129 partitions keeps each partition's events apart, with its own ids.

        Partitions past 2^7 or past two decimal digits must not share storage or ids with
        another partition (a partition index kept in a byte, a two-digit file name).
        """
        topic = driver.open_topic(diaspora_backend.create_topic(driver, MANY_PARTITIONS))
        assert len(topic.partitions) == MANY_PARTITIONS
        producer = topic.producer(batch_size=MANY_PARTITIONS)
        futures = [
            producer.push({"p": p, "k": k}, b"%d/%d" % (p, k), partition=p)
            for k in range(2)
            for p in range(MANY_PARTITIONS)
        ]
        assert producer.flush().wait(WAIT_MS) is True
        ids = [future.wait(WAIT_MS) for future in futures]
        assert ids == [k for k in range(2) for _ in range(MANY_PARTITIONS)], (
            "each partition's two events must get ids 0 and 1"
        )
        events = read_all(topic, 2 * MANY_PARTITIONS, data_allocator=None)
        placed = sorted(
            (event.partition_index, event.event_id, event.metadata["p"], event.metadata["k"])
            for event in events
        )
        wrong = [entry for entry in placed if entry[0] != entry[2] or entry[1] != entry[3]]
        assert not wrong, (
            f"events stored in another partition or under another id (partition, id, pushed to "
            f"partition, pushed as k): {wrong[:5]}"
        )
