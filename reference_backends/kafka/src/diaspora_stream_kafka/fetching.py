"""Taking the records a librdkafka consumer has fetched."""

from __future__ import annotations

from confluent_kafka import Consumer, Message

__all__ = ["fetch_available", "position"]


def fetch_available(client: Consumer, most: int, timeout_s: float) -> list[Message]:
    """Up to ``most`` records: waits at most ``timeout_s`` for the first, none for the others.

    (``consume(n, timeout)`` alone would wait the whole timeout unless ``n`` records come.)
    """
    if timeout_s <= 0:
        return client.consume(num_messages=most, timeout=0)
    first = client.poll(timeout_s)
    if first is None:
        return []
    return [first, *client.consume(num_messages=most - 1, timeout=0)] if most > 1 else [first]


def position(message: Message) -> tuple[int, int]:
    """``(partition, offset)`` of a fetched or delivered record (always set for those)."""
    partition, offset = message.partition(), message.offset()
    assert partition is not None and offset is not None
    return partition, offset
