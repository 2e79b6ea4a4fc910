"""The public Diaspora Stream API, call-compatible with the C++ binding's ``diaspora_stream.api``.

Differences from the C++ implementation are listed in the documentation ("Differences from the
C++ implementation").
"""

from __future__ import annotations

from .allocators import ByteArrayAllocator, FullDataSelector
from .backend.capabilities import Capabilities
from .backend.full import (
    ConsumerInterface,
    DriverInterface,
    ProducerInterface,
    TopicHandleInterface,
)
from .backend.log import AppendRecord, LogDriver, LogTopic, StoredRecord, TopicConfig
from .batches import BatchFuture
from .components.builtin import register_builtin_components
from .components.interfaces import (
    PartitionSelectorInterface,
    SerializerInterface,
    ValidatorInterface,
)
from .components.public import PartitionSelector, Serializer, Validator
from .constants import AdaptiveBatchSize, NoMoreEvents, Ordering
from .consumer import Consumer
from .data_descriptor import DataDescriptor
from .driver import Driver
from .event import Event
from .exceptions import (
    ClientException,
    ClosedError,
    EventsNotStored,
    Exception,  # noqa: A004 - the reference's public name
    InvalidArgument,
    InvalidMetadata,
    PartitionCompleted,
    StopEventProcessor,
    Unreachable,
    UnsupportedError,
)
from .futures import FutureEvent, FutureFlushed, FutureUint
from .positions import Position
from .producer import Producer
from .registry import (
    register_driver,
    register_partition_selector,
    register_serializer,
    register_validator,
)
from .thread_pool import ThreadPool
from .topic import TopicHandle

register_builtin_components()

__all__ = [
    "AdaptiveBatchSize",
    "AppendRecord",
    "BatchFuture",
    "ByteArrayAllocator",
    "Capabilities",
    "ClientException",
    "ClosedError",
    "Consumer",
    "ConsumerInterface",
    "DataDescriptor",
    "Driver",
    "DriverInterface",
    "Event",
    "EventsNotStored",
    "Exception",
    "FullDataSelector",
    "FutureEvent",
    "FutureFlushed",
    "FutureUint",
    "InvalidArgument",
    "InvalidMetadata",
    "LogDriver",
    "LogTopic",
    "NoMoreEvents",
    "Ordering",
    "PartitionCompleted",
    "PartitionSelector",
    "PartitionSelectorInterface",
    "Position",
    "Producer",
    "ProducerInterface",
    "Serializer",
    "SerializerInterface",
    "StopEventProcessor",
    "StoredRecord",
    "ThreadPool",
    "TopicConfig",
    "TopicHandle",
    "TopicHandleInterface",
    "Unreachable",
    "UnsupportedError",
    "Validator",
    "ValidatorInterface",
    "register_driver",
    "register_partition_selector",
    "register_serializer",
    "register_validator",
]
