"""Driver and topic options: what is accepted, and clear errors for what is not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from diaspora_stream.api import Driver, Validator
from diaspora_stream.api import Exception as DiasporaException

from diaspora_stream_kafka.config import KafkaConfig, librdkafka_settings


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({}, ["bootstrap.servers"]),
        ({"kafka": {}}, ["bootstrap.servers"]),
        ({"kafka": "127.0.0.1:9092"}, ["'kafka'", "JSON object"]),
        ({"kafka": {"bootstrap.servers": "x"}, "colour": 1}, ["colour", "accepted options"]),
        ({"kafka": {"bootstrap.servers": "x"}, "aws_msk_iam": {}}, ["aws_msk_iam", "sasl"]),
        ({"kafka": {"bootstrap.servers": "x"}, "octopus": {}}, ["octopus", "not supported"]),
        ({"kafka": {"bootstrap.servers": "x"}, "namespace": 3}, ["namespace", "string"]),
        ({"kafka": {"bootstrap.servers": "x"}, "replication_factor": 0}, ["replication_factor"]),
        ({"kafka": {"bootstrap.servers": "x"}, "num_partitions": 0}, ["num_partitions"]),
        ({"kafka": {"bootstrap.servers": "x", "retries": {"a": 1}}}, ["retries", "dict"]),
    ],
)
def test_bad_driver_options_raise_with_the_reason(
    options: dict[str, Any], words: list[str]
) -> None:
    with pytest.raises(DiasporaException) as raised:
        Driver(backend="kafka", options=options)
    for word in words:
        assert word in str(raised.value)


def test_librdkafka_settings_are_converted_as_octopus_does() -> None:
    settings = librdkafka_settings(
        {"bootstrap.servers": ["a:1", "b:2"], "linger.ms": 5, "enable.idempotence": True},
        "test",
    )
    assert settings == {
        "bootstrap.servers": "a:1,b:2",
        "linger.ms": "5",
        "enable.idempotence": "true",
    }


def test_client_settings_of_a_producer_override_the_driver_ones() -> None:
    config = KafkaConfig.from_options({"kafka": {"bootstrap.servers": "x", "linger.ms": 5}})
    merged = config.client_settings({"kafka": {"linger.ms": 50}}, "kafka producer")
    assert merged["linger.ms"] == "50"
    assert merged["bootstrap.servers"] == "x"


def test_unreachable_cluster_fails_naming_its_address() -> None:
    driver = Driver(
        backend="kafka",
        options={"kafka": {"bootstrap.servers": "127.0.0.1:1"}, "timeout_ms": 1500},
    )
    with pytest.raises(DiasporaException) as raised:
        driver.topic_exists("anything")
    assert "127.0.0.1:1" in str(raised.value)


@pytest.mark.parametrize(
    ("topic_options", "words"),
    [
        ({"num_partitions": 0}, ["num_partitions"]),
        ({"num_partitions": "2"}, ["num_partitions"]),
        ({"replication_factor": 0}, ["replication_factor"]),
        ({"replication_factor": 1.5}, ["replication_factor"]),
        ({"retention": 10}, ["retention", "accepted options"]),
        ({"config": "retention.ms=10"}, ["config"]),
    ],
)
def test_bad_topic_options_raise_and_create_nothing(
    driver: Driver, topic_name: Callable[[], str], topic_options: dict[str, Any], words: list[str]
) -> None:
    name = topic_name()
    with pytest.raises(DiasporaException) as raised:
        driver.create_topic(name, options=topic_options)
    for word in words:
        assert word in str(raised.value)
    assert not driver.topic_exists(name)


def test_topic_names_outside_the_kafka_alphabet_are_refused(driver: Driver) -> None:
    with pytest.raises(DiasporaException, match="ASCII letters, digits"):
        driver.create_topic("spaces are not allowed")
    assert driver.topic_exists("spaces are not allowed") is False


def test_no_info_topic_only_with_default_components(
    driver: Driver, topic_name: Callable[[], str]
) -> None:
    name = topic_name()
    schema = Validator.from_metadata(type="schema", schema={"type": "object"})
    with pytest.raises(DiasporaException, match="without an info topic"):
        driver.create_topic(name, options={"disable_info_topic": True}, validator=schema)
    assert not driver.topic_exists(name)
    driver.create_topic(name, options={"disable_info_topic": True})
    assert driver.topic_exists(name)
    assert "validator" not in driver.list_topics()[name]


def test_topic_configuration_reaches_kafka(
    driver: Driver, topic_name: Callable[[], str], bootstrap: str
) -> None:
    from confluent_kafka.admin import AdminClient, ConfigResource

    name = topic_name()
    driver.create_topic(name, options={"config": {"retention.ms": 123456789}})
    resource = ConfigResource(ConfigResource.Type.TOPIC, name)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    described = admin.describe_configs([resource])[resource].result()
    assert described["retention.ms"].value == "123456789"
    assert int(described["max.message.bytes"].value) == 128 * 2**20


def test_names_of_info_topics_are_reserved(driver: Driver) -> None:
    with pytest.raises(DiasporaException, match="info topics"):
        driver.create_topic("__info_mine")


def test_names_starting_with_underscores_are_listed(
    driver: Driver, topic_name: Callable[[], str]
) -> None:
    name = "__" + topic_name()
    driver.create_topic(name)
    assert name in driver.list_topics()
    assert "__consumer_offsets" not in driver.list_topics()
