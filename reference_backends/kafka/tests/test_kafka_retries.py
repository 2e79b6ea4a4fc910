"""Errors Kafka calls retriable are retried within the driver's timeout, not raised."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from diaspora_stream_kafka.admin import KafkaAdmin
from diaspora_stream_kafka.config import KafkaConfig
from diaspora_stream_kafka.errors import is_retriable
from diaspora_stream_kafka.naming import TopicNames


def test_partition_errors_of_admin_results_are_retriable() -> None:
    # As list_offsets reports them: the code alone, without librdkafka's retriable flag.
    not_leader = KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION)
    assert not not_leader.retriable()
    assert is_retriable(KafkaException(not_leader))
    assert is_retriable(KafkaError(KafkaError.NOT_COORDINATOR))
    assert not is_retriable(KafkaException(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED)))


def test_admin_retries_not_leader_then_answers(options: dict[str, Any]) -> None:
    admin = KafkaAdmin(KafkaConfig.from_options(options), TopicNames("", "__info_"))
    failures = [KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION)] * 2
    calls = []

    def query() -> str:
        calls.append(1)
        if failures:
            raise KafkaException(failures.pop())
        return "answer"

    assert admin.retrying(query) == "answer"
    assert len(calls) == 3


def test_admin_raises_other_errors_at_once(options: dict[str, Any]) -> None:
    admin = KafkaAdmin(KafkaConfig.from_options(options), TopicNames("", "__info_"))
    calls = []

    def query() -> str:
        calls.append(1)
        raise KafkaException(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED))

    with pytest.raises(KafkaException):
        admin.retrying(query)
    assert len(calls) == 1


def test_admin_gives_up_on_a_leader_that_never_comes_after_its_timeout(
    options: dict[str, Any],
) -> None:
    config = KafkaConfig.from_options({**options, "timeout_ms": 300})
    admin = KafkaAdmin(config, TopicNames("", "__info_"))
    calls = []

    def query() -> str:
        calls.append(1)
        raise KafkaException(KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION))

    with pytest.raises(KafkaException):
        admin.retrying(query)
    assert len(calls) > 1
