"""A topic of particle collisions, with a validator, a partition selector and a serializer
written in Python (the documentation's "energy" example).

Usage: python energy_topic.py <root_path>

Every event's metadata is ``{"energy": E}`` with ``0 <= E < energy_max``:

* ``EnergyValidator`` rejects events without an integer ``energy`` lower than ``energy_max``;
* ``EnergyPartitionSelector`` puts similar energies in the same partition (uniform bins);
* ``EnergySerializer`` stores the energy alone, in as few bytes as ``energy_max`` needs
  (1 byte for 100), instead of the JSON text ``{"energy":42}``.

The three are registered by name, so a topic created with them re-creates them whenever it is
opened again (in any process that imported this module, or that names them as
``"energy_validator:<module>"``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from diaspora_stream.api import (
    AdaptiveBatchSize,
    DataDescriptor,
    Driver,
    InvalidMetadata,
    Ordering,
    PartitionSelector,
    PartitionSelectorInterface,
    Serializer,
    SerializerInterface,
    Validator,
    ValidatorInterface,
    register_partition_selector,
    register_serializer,
    register_validator,
)
from diaspora_stream.api import Exception as DiasporaException


def _energy_max(config: dict[str, Any], component: str) -> int:
    value = config.get("energy_max")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidMetadata(
            f"{component} configuration needs a positive integer energy_max, got {value!r}"
        )
    return value


class EnergyValidator(ValidatorInterface):
    """Accepts only metadata ``{"energy": E, ...}`` with an integer ``0 <= E < energy_max``."""

    def __init__(self, energy_max: int) -> None:
        self.energy_max = energy_max

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> EnergyValidator:
        return cls(_energy_max(metadata, "EnergyValidator"))

    def validate(self, metadata: Any, data: Sequence[memoryview]) -> None:
        if not isinstance(metadata, dict):
            raise InvalidMetadata("EnergyValidator expects metadata to be a JSON object")
        if "energy" not in metadata:
            raise InvalidMetadata('EnergyValidator expects metadata to contain an "energy" field')
        energy = metadata["energy"]
        if isinstance(energy, bool) or not isinstance(energy, int):
            raise InvalidMetadata("EnergyValidator expects the energy field to be an integer")
        if not 0 <= energy < self.energy_max:
            raise InvalidMetadata(
                f"EnergyValidator expects energy value to be in [0, {self.energy_max}), "
                f"got {energy}"
            )
        # (the validator could also check the data part)

    def metadata(self) -> dict[str, Any]:
        # No "type" needed: the API adds the name the class is registered under.
        return {"energy_max": self.energy_max}


class EnergyPartitionSelector(PartitionSelectorInterface):
    """Sends energies of the same bin of ``energy_max / num_partitions`` to one partition."""

    def __init__(self, energy_max: int) -> None:
        self.energy_max = energy_max
        self.num_partitions = 0

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> EnergyPartitionSelector:
        return cls(_energy_max(metadata, "EnergyPartitionSelector"))

    def set_partitions(self, partitions: Sequence[dict[str, Any]]) -> None:
        self.num_partitions = len(partitions)

    def select_partition_for(self, metadata: Any, requested: int | None) -> int:
        energy = metadata["energy"]  # checked by the validator, which runs first
        return energy * self.num_partitions // self.energy_max

    def metadata(self) -> dict[str, Any]:
        return {"energy_max": self.energy_max}


class EnergySerializer(SerializerInterface):
    """Stores ``{"energy": E}`` as E in the fewest little-endian bytes holding energy_max - 1."""

    def __init__(self, energy_max: int) -> None:
        self.energy_max = energy_max
        self.num_bytes = max(1, ((energy_max - 1).bit_length() + 7) // 8)

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> EnergySerializer:
        return cls(_energy_max(metadata, "EnergySerializer"))

    def serialize(self, metadata: Any) -> bytes:
        if set(metadata) != {"energy"}:
            raise DiasporaException(
                f"EnergySerializer can only store {{'energy': E}}, got keys {sorted(metadata)}"
            )
        return metadata["energy"].to_bytes(self.num_bytes, "little")

    def deserialize(self, blob: bytes | memoryview) -> Any:
        if len(blob) != self.num_bytes:
            raise DiasporaException(
                f"EnergySerializer expects {self.num_bytes} byte(s), got {len(blob)}"
            )
        return {"energy": int.from_bytes(blob, "little")}

    def metadata(self) -> dict[str, Any]:
        return {"energy_max": self.energy_max}


register_validator("energy_validator", EnergyValidator)
register_partition_selector("energy_partition_selector", EnergyPartitionSelector)
register_serializer("energy_serializer", EnergySerializer)


def main(root_path: str) -> None:
    driver = Driver(backend="files", options={"root_path": root_path})

    if driver.topic_exists("collisions"):
        print("topic collisions already exists: its components are re-created from it")
    else:
        # START CREATE TOPIC
        validator = Validator.from_metadata(type="energy_validator", energy_max=100)
        selector = PartitionSelector.from_metadata(
            type="energy_partition_selector", energy_max=100
        )
        serializer = Serializer.from_metadata(type="energy_serializer", energy_max=100)

        driver.create_topic(
            "collisions",
            options={"num_partitions": 4},
            validator=validator,
            partition_selector=selector,
            serializer=serializer,
        )
        # END CREATE TOPIC
        print("created topic collisions with 4 partitions")
        print("validator:", validator.metadata())
        print("partition selector:", selector.metadata())
        print("serializer:", serializer.metadata())

    # START PRODUCER
    topic = driver.open_topic("collisions")

    thread_pool = driver.make_thread_pool(4)
    batch_size = AdaptiveBatchSize
    max_num_batches = 2
    ordering = Ordering.Loose  # or Ordering.Strict

    producer = topic.producer(
        "app1",
        batch_size=batch_size,
        max_num_batches=max_num_batches,
        thread_pool=thread_pool,
        ordering=ordering,
    )
    # END PRODUCER

    # START EVENT
    data1 = b"abcd"  # read-only bytes
    data2 = bytearray(b"ef")  # a writable buffer
    data3 = memoryview(data1)[1:3]  # a view of part of data1
    data4 = [data1, data2, data3]  # several buffers make one event's data

    metadata1 = '{"energy": 42}'  # JSON text
    metadata2 = {"energy": 42}  # or a JSON-able object
    # END EVENT

    # START PRODUCE EVENT
    future = producer.push(metadata1, data1)
    print("stored yet?", bool(future.completed))  # future.completed: True once stored

    producer.push(metadata2, data4)  # it is fine to drop the future

    # the value passed to wait is a timeout in milliseconds;
    # -1 (the default) blocks until the value is available
    event_id_1 = future.wait(-1)

    producer.flush().wait()
    # END PRODUCE EVENT
    print(f"pushed energy 42 twice; the first got id {event_id_1}")

    for energy in (5, 30, 55, 80, 99):
        producer.push({"energy": energy}, bytes([energy]) * 3)
    for bad in ({"energy": 150}, {"energy": "high"}, {"power": 3}):
        try:
            producer.push(bad).wait()
        except InvalidMetadata as error:
            print(f"rejected {bad}: {error}")
    producer.flush().wait()
    producer.close()

    # START CONSUMER
    topic = driver.open_topic("collisions")
    batch_size = AdaptiveBatchSize
    thread_pool = driver.default_thread_pool

    def data_selector(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor | None:
        if metadata["energy"] > 20:
            return descriptor
        return None  # do not fetch the data of low-energy events

    def data_allocator(metadata: Any, descriptor: DataDescriptor) -> list[bytearray]:
        return [bytearray(descriptor.size)]

    consumer = topic.consumer(
        "app2",
        batch_size=batch_size,
        thread_pool=thread_pool,
        data_selector=data_selector,
        data_allocator=data_allocator,
    )
    # END CONSUMER

    # START CONSUME EVENTS
    future = consumer.pull()
    print("event available yet?", bool(future.completed))  # True once an event is there

    event = future.wait(-1)
    data = event.data
    metadata = event.metadata
    event_id = event.event_id

    event.acknowledge()
    # END CONSUME EVENTS
    events = [(event.partition_index, event_id, metadata, data)]

    while (event := consumer.pull().wait(500)) is not None:
        events.append((event.partition_index, event.event_id, event.metadata, event.data))
        event.acknowledge()
    for partition, event_id, metadata, data in sorted(events, key=lambda e: e[:2]):
        content = b"".join(bytes(buffer) for buffer in data)
        print(f"partition {partition} event {event_id}: energy={metadata['energy']} "
              f"data={content!r}")
    print(f"read back {len(events)} events")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(f"Usage: {sys.argv[0]} <root_path>", file=sys.stderr)
        sys.exit(1)
    main(sys.argv[1])
