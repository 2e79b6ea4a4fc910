"""The admin client retries what Kafka's protocol calls retriable, and only that, until its
timeout (no broker needed: the calls are functions that fail as the cluster would)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from confluent_kafka import KafkaError, KafkaException

from diaspora_stream_kafka.admin import KafkaAdmin
from diaspora_stream_kafka.config import KafkaConfig
from diaspora_stream_kafka.naming import TopicNames


def _admin(timeout_ms: int = 3000) -> KafkaAdmin:
    config = KafkaConfig.from_options(
        {"kafka": {"bootstrap.servers": "127.0.0.1:9"}, "timeout_ms": timeout_ms}
    )
    return KafkaAdmin(config, TopicNames("", "__info_"))


def _failing_then(code: int, failures: int) -> tuple[list[int], Callable[[], str]]:
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= failures:
            # As an admin future's error arrives: the broker's code, not flagged retriable.
            raise KafkaException(KafkaError(code))
        return "answered"

    return calls, call


@pytest.mark.parametrize(
    "code",
    [KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE],
    ids=["not-leader", "leader-not-available"],
)
def test_a_leader_moving_is_retried_until_it_answers(code: int) -> None:
    calls, call = _failing_then(code, failures=3)
    assert _admin().retrying(call) == "answered"
    assert len(calls) == 4


def test_a_leader_that_never_comes_raises_after_the_timeout() -> None:
    calls, call = _failing_then(KafkaError.NOT_LEADER_FOR_PARTITION, failures=10**6)
    with pytest.raises(KafkaException):
        _admin(timeout_ms=300).retrying(call)
    assert len(calls) > 1


def test_a_missing_topic_is_not_retried() -> None:
    calls, call = _failing_then(KafkaError.UNKNOWN_TOPIC_OR_PART, failures=1)
    with pytest.raises(KafkaException):
        _admin().retrying(call)
    assert len(calls) == 1
