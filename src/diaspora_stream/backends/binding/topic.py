"""The bridge's topic handle: makes producers and consumers of the foreign topic."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from ...backend.full import (
    ConsumerInterface,
    DataAllocator,
    DataSelector,
    ProducerInterface,
    TopicHandleInterface,
)
from ...components.interfaces import (
    PartitionSelectorInterface,
    SerializerInterface,
    ValidatorInterface,
)
from ...components.public import PartitionSelector, Serializer, Validator
from ...exceptions import Exception as DiasporaException
from ...exceptions import InvalidMetadata
from ...thread_pool import ThreadPool
from .calls import ErrorMap
from .consumer import BindingConsumer
from .data import ConsumerFunctions
from .producer import BindingProducer

__all__ = ["BindingTopic", "ForeignPools"]


class ForeignPools:
    """The foreign thread pool standing for each of our pools (0 threads: the foreign default,
    a new 0-thread pool per producer or consumer, as ``thread_pool=None`` gives)."""

    def __init__(self, foreign_driver: Any, errors: ErrorMap) -> None:
        self._driver = foreign_driver
        self._errors = errors
        self._pools: weakref.WeakKeyDictionary[ThreadPool, Any] = weakref.WeakKeyDictionary()

    def foreign(self, pool: ThreadPool) -> Any:
        if pool.thread_count == 0:
            return None
        foreign = self._pools.get(pool)
        if foreign is None:
            foreign = self._errors.call(self._driver.make_thread_pool, pool.thread_count)
            self._pools[pool] = foreign
        return foreign


class _Stored:
    """A component the foreign side runs and this process cannot: its metadata only."""

    #: Batch pushes cannot check events with it beforehand (backend.batching.preflight).
    runs_in_process = False

    def __init__(self, metadata: dict[str, Any]) -> None:
        self._metadata = dict(metadata)

    def metadata(self) -> dict[str, Any]:
        return dict(self._metadata)


class _StoredValidator(_Stored, ValidatorInterface):
    def validate(self, metadata: Any, data: Any) -> None:
        raise DiasporaException("this validator runs in the foreign driver only")


class _StoredSerializer(_Stored, SerializerInterface):
    def serialize(self, metadata: Any) -> bytes:
        raise DiasporaException("this serializer runs in the foreign driver only")

    def deserialize(self, blob: bytes | memoryview) -> Any:
        raise DiasporaException("this serializer runs in the foreign driver only")


class _StoredPartitionSelector(_Stored, PartitionSelectorInterface):
    def set_partitions(self, partitions: Sequence[dict[str, Any]]) -> None:
        pass

    def select_partition_for(self, metadata: Any, requested: int | None) -> int:
        raise DiasporaException("this partition selector runs in the foreign driver only")


def _component(public: Any, stored: type[_Stored], metadata: Any) -> Any:
    """The component ``list_topics`` describes: ours if this process has its type, else one
    that only knows its metadata; the default when the foreign driver describes none."""
    if not isinstance(metadata, dict) or not metadata.get("type"):
        return public.implementation_from(None, default_if_none=True)
    try:
        return public.implementation_from(metadata, default_if_none=True)
    except (DiasporaException, ValueError):
        return stored(metadata)


class BindingTopic(TopicHandleInterface):
    """A foreign topic handle behind our topic interface."""

    def __init__(
        self,
        module: ModuleType,
        foreign: Any,
        info: dict[str, Any],
        errors: ErrorMap,
        pools: ForeignPools,
        backend: str,
        acknowledgements: bool,
    ) -> None:
        self._module = module
        self._foreign = foreign
        self.errors = errors
        self._pools = pools
        self.backend = backend
        self._acknowledgements = acknowledgements
        self.name = str(errors.call(lambda: foreign.name))
        self._partitions = [dict(p) for p in errors.call(lambda: foreign.partitions)]
        self.validator = _component(Validator, _StoredValidator, info.get("validator"))
        self.serializer = _component(Serializer, _StoredSerializer, info.get("serializer"))
        self.partition_selector = _component(
            PartitionSelector, _StoredPartitionSelector, info.get("partition_selector")
        )

    @property
    def partitions(self) -> list[dict[str, Any]]:
        return [dict(p) for p in self._partitions]

    def retype_push_error(
        self, metadata: Any, data: tuple[memoryview, ...], error: BaseException
    ) -> BaseException:
        """The binding folds ``InvalidMetadata`` into its one ``Exception``: a push error is
        ours ``InvalidMetadata`` when the topic's validator, run here, rejects the event too."""
        if not isinstance(error, DiasporaException) or isinstance(error, InvalidMetadata):
            return error
        if isinstance(self.validator, _StoredValidator):
            return error
        try:
            self.validator.validate(metadata, data)
        except InvalidMetadata:
            retyped = InvalidMetadata(str(error))
            retyped.__cause__ = error.__cause__ or error
            return retyped
        except Exception:  # noqa: BLE001 - the foreign error stands as it is
            return error
        return error

    def make_producer(
        self,
        name: str,
        batch_size: int,
        max_num_batches: int,
        ordering: int,
        thread_pool: ThreadPool,
        options: dict[str, Any],
    ) -> ProducerInterface:
        order = self._module.Ordering.Strict if ordering else self._module.Ordering.Loose
        foreign = self.errors.call(
            self._foreign.producer,
            name,
            batch_size=batch_size,
            max_num_batches=max_num_batches,
            ordering=order,
            thread_pool=self._pools.foreign(thread_pool),
            options=options,
        )
        return BindingProducer(self, foreign)

    def make_consumer(
        self,
        name: str,
        batch_size: int,
        max_num_batches: int,
        thread_pool: ThreadPool,
        data_selector: DataSelector | None,
        data_allocator: DataAllocator | None,
        targets: Sequence[int] | None,
        options: dict[str, Any],
    ) -> ConsumerInterface:
        functions = ConsumerFunctions(self._module, data_selector, data_allocator)
        foreign_pool = self._pools.foreign(thread_pool)

        def make(foreign_targets: list[int] | None) -> Any:
            return self.errors.call(
                self._foreign.consumer,
                name,
                batch_size=batch_size,
                max_num_batches=max_num_batches,
                thread_pool=foreign_pool,
                targets=foreign_targets,
                options=options,
                **functions.keywords,
            )

        return BindingConsumer(
            self,
            name,
            make,
            list(range(len(self._partitions))),
            None if targets is None else list(targets),
            functions,
            self._acknowledgements,
        )

    def close(self) -> None:
        self._foreign = None
