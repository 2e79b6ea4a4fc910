"""A double of the C++ binding's module ``pydiaspora_stream_api``, over this repository's API.

It presents ``diaspora_stream.api`` with the binding's names and calling conventions exactly as
``reference-api.md`` §2 describes them, quirks included, so that the ``binding`` bridge backend
can be tested without the C++ build:

* ``Exception`` is a class named ``Exception`` deriving from ``RuntimeError``; every error of the
  API surfaces as it (there is no ``InvalidMetadata``); argument mismatches are ``TypeError``;
  an invalid JSON Schema document is ``ValueError``;
* ``Driver(*, backend, options)``; ``create_topic`` defaults are instances shared by every call;
* futures: ``wait(*, timeout_ms)`` with no default, ``timeout_ms <= 0`` blocks;
  ``FutureUint.completed`` / ``FutureFlushed.completed`` are properties, ``FutureEvent.completed()``
  a method; ``FutureFlushed`` exists here (the binding's ``api.py`` does not re-export it);
* ``consumer`` has the binding's two overloads (``data_selector`` and ``data_allocator`` both or
  neither); ``Event`` has no ``partition_index``; ``event.data`` of an event pulled with
  ``data_allocator=None`` is the binding's null dereference (raised here as ``SystemError``, so
  a caller that touches it is caught); ``Consumer.process`` cannot be called;
* ``push`` takes ``str`` metadata as JSON text, a buffer or a *list* of buffers (a tuple is a
  ``TypeError``), and counts a buffer's length in items, not bytes.

Kept in the tests, never in the package: it is a test double, not an implementation.
"""

from __future__ import annotations

import builtins
import enum
import functools
from collections.abc import Callable
from typing import Any

from diaspora_stream import api as _api

AdaptiveBatchSize = 2**64 - 1
_MISSING: Any = object()
#: ``push``'s default data: an empty read-only buffer.
_EMPTY = memoryview(b"")


class Exception(builtins.RuntimeError):  # noqa: A001 - the binding's name
    """The binding's only exception class (``register_exception(..., PyExc_RuntimeError)``)."""


def _call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` raising the binding's exception types instead of ours."""
    try:
        return function(*args, **kwargs)
    except _api.InvalidArgument as error:
        raise TypeError(str(error)) from None
    except _api.Exception as error:
        raise Exception(str(error)) from None


def _translated(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` raising the binding's exception types (for methods defined here)."""

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        return _call(function, *args, **kwargs)

    return call


class Ordering(enum.Enum):
    """The binding's pybind11 enum (``Ordering.Strict``, ``Ordering.Loose``)."""

    Loose = 0
    Strict = 1

    def __int__(self) -> int:
        return int(self.value)


def _no_constructor(self: Any, *args: Any, **kwargs: Any) -> None:
    raise TypeError(f"{type(self).__name__}: No constructor defined!")


def _wrap(cls: type, inner: Any) -> Any:
    wrapper = object.__new__(cls)
    wrapper._inner = inner
    return wrapper


def _check_timeout(timeout_ms: Any) -> int:
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int):
        raise TypeError("wait(): incompatible function arguments (timeout_ms: int)")
    return -1 if timeout_ms <= 0 else timeout_ms  # <= 0 blocks, 0 included (quirk 4)


class ThreadPool:
    """A driver's thread pool (no constructor)."""

    __init__ = _no_constructor

    @property
    def thread_count(self) -> int:
        return int(self._inner.thread_count)


class _Component:
    __init__ = _no_constructor
    _public: Any = None

    @classmethod
    def from_metadata(cls, **kwargs: Any) -> Any:
        return _wrap(cls, _call(cls._public.from_metadata, **kwargs))


class Validator(_Component):
    _public = _api.Validator


class Serializer(_Component):
    _public = _api.Serializer


class PartitionSelector(_Component):
    _public = _api.PartitionSelector


class DataDescriptor:
    """``DataDescriptor()`` or ``DataDescriptor(location, size)`` (positional only)."""

    __slots__ = ("_inner",)

    def __init__(self, *args: Any) -> None:
        if args and (len(args) != 2 or not isinstance(args[0], str)):
            raise TypeError("DataDescriptor(): incompatible constructor arguments")
        self._inner = _call(_api.DataDescriptor, *args)

    @classmethod
    def _of(cls, inner: Any) -> DataDescriptor:
        descriptor = object.__new__(cls)
        descriptor._inner = inner
        return descriptor

    @property
    def size(self) -> int:
        return int(self._inner.size)

    @property
    def location(self) -> str:
        return str(self._inner.location)

    def flatten(self) -> list[tuple[int, int]]:
        return list(self._inner.flatten())

    def make_sub_view(self, *, offset: int, size: int) -> DataDescriptor:
        return self._of(_call(self._inner.make_sub_view, offset=offset, size=size))

    def make_stride_view(
        self, *, offset: int, num_blocks: int, block_size: int, gap_size: int
    ) -> DataDescriptor:
        view = _call(
            self._inner.make_stride_view,
            offset=offset,
            num_blocks=num_blocks,
            block_size=block_size,
            gap_size=gap_size,
        )
        return self._of(view)

    def make_unstructured_view(self, *, segments: list[tuple[int, int]]) -> DataDescriptor:
        return self._of(_call(self._inner.make_unstructured_view, segments=segments))


def FullDataSelector(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor:
    """Selects the whole data (a module-level callable, as in the binding)."""
    return descriptor


def ByteArrayAllocator(metadata: Any, descriptor: DataDescriptor) -> list[bytearray]:
    """One ``bytearray`` of the selection's size."""
    return [bytearray(descriptor.size)]


class FutureUint:
    __init__ = _no_constructor

    def wait(self, *, timeout_ms: int) -> int | None:
        return _call(self._inner.wait, _check_timeout(timeout_ms))  # type: ignore[no-any-return]

    @property
    def completed(self) -> bool:
        return bool(self._inner.completed)


class FutureFlushed:
    __init__ = _no_constructor

    def wait(self, *, timeout_ms: int) -> bool:
        return bool(_call(self._inner.wait, _check_timeout(timeout_ms)))

    @property
    def completed(self) -> bool:
        return bool(self._inner.completed)


class Event:
    """A pulled event: ``metadata``, ``data``, ``event_id``, ``partition``, ``acknowledge()``."""

    __init__ = _no_constructor
    _data_owned: bool

    @property
    def metadata(self) -> Any:
        return self._inner.metadata

    @property
    def data(self) -> Any:
        if not self._data_owned:
            raise SystemError("event.data without an allocator: the binding dereferences null")
        return self._inner.data

    @property
    def event_id(self) -> int | None:
        return self._inner.event_id  # type: ignore[no-any-return]

    @property
    def partition(self) -> Any:
        return self._inner.partition

    def acknowledge(self) -> None:
        _call(self._inner.acknowledge)


class FutureEvent:
    __init__ = _no_constructor
    _data_owned: bool

    def wait(self, *, timeout_ms: int) -> Event | None:
        event = _call(self._inner.wait, _check_timeout(timeout_ms))
        if event is None:
            return None
        wrapper: Event = _wrap(Event, event)
        wrapper._data_owned = self._data_owned
        return wrapper

    def completed(self) -> bool:
        return bool(self._inner.completed)


class _Unusable:
    """What the binding's ``data_selector``/``data_allocator`` properties return (quirk 8)."""

    def __call__(self, *args: Any) -> Any:
        raise TypeError("Unable to convert function arguments to C++ types")


class Consumer:
    __init__ = _no_constructor
    _topic: TopicHandle
    _pool: ThreadPool
    _data_owned: bool

    name = property(lambda self: self._inner.name)
    batch_size = property(lambda self: self._inner.batch_size)
    max_num_batches = property(lambda self: self._inner.max_num_batches)
    thread_pool = property(lambda self: self._pool)
    topic = property(lambda self: self._topic)
    data_selector = property(lambda self: _Unusable())
    data_allocator = property(lambda self: _Unusable())

    def pull(self) -> FutureEvent:
        future: FutureEvent = _wrap(FutureEvent, _call(self._inner.pull))
        future._data_owned = self._data_owned
        return future

    def process(self, processor: Any, *, timeout_ms: int = -1, **kwargs: Any) -> None:
        raise RuntimeError(
            "Unable to convert call argument to Python object: std::optional<diaspora::Event>"
        )

    def __iter__(self) -> Any:
        while True:
            event = self.pull().wait(timeout_ms=5000)
            if event is None or event.event_id is None:
                return
            yield event


class Producer:
    __init__ = _no_constructor
    _topic: TopicHandle
    _pool: ThreadPool

    name = property(lambda self: self._inner.name)
    batch_size = property(lambda self: self._inner.batch_size)
    max_num_batches = property(lambda self: self._inner.max_num_batches)
    thread_pool = property(lambda self: self._pool)
    topic = property(lambda self: self._topic)

    def push(self, metadata: Any, data: Any = _EMPTY, *, partition: Any = None) -> Any:
        if isinstance(data, list):
            data = [_items(item) for item in data]
        elif isinstance(data, tuple):
            raise TypeError("push(): incompatible function arguments (data: buffer | list)")
        else:
            data = _items(data)
        return _wrap(FutureUint, _call(self._inner.push, metadata, data, partition=partition))

    def flush(self) -> FutureFlushed:
        return _wrap(FutureFlushed, _call(self._inner.flush))  # type: ignore[no-any-return]


def _items(buffer: Any) -> memoryview:
    """The binding sends ``buffer_info.size`` bytes: the number of items (quirk 6)."""
    try:
        view = memoryview(buffer)
    except TypeError:
        raise TypeError("push(): incompatible function arguments (data: buffer)") from None
    if view.itemsize == 1 or not view.contiguous:
        return view
    return view.cast("B")[: view.nbytes // view.itemsize]


class TopicHandle:
    __init__ = _no_constructor

    name = property(lambda self: self._inner.name)
    partitions = property(lambda self: [dict(p) for p in self._inner.partitions])

    def _pool(self, thread_pool: Any) -> tuple[Any, ThreadPool | None]:
        if thread_pool is None:
            return None, None
        if not isinstance(thread_pool, ThreadPool):
            raise TypeError("incompatible function arguments (thread_pool: ThreadPool)")
        return thread_pool._inner, thread_pool  # type: ignore[attr-defined]

    def producer(
        self,
        name: str = "",
        *,
        batch_size: int = AdaptiveBatchSize,
        max_num_batches: int = 2,
        ordering: Ordering = Ordering.Strict,
        thread_pool: ThreadPool | None = None,
        options: Any = None,
    ) -> Producer:
        if not isinstance(ordering, Ordering):
            raise TypeError("producer(): incompatible function arguments (ordering: Ordering)")
        inner_pool, pool = self._pool(thread_pool)
        inner = _call(
            self._inner.producer,
            name,
            batch_size=batch_size,
            max_num_batches=max_num_batches,
            ordering=_api.Ordering(ordering.value),
            thread_pool=inner_pool,
            options={} if options is None else options,
        )
        producer: Producer = _wrap(Producer, inner)
        producer._topic = self
        producer._pool = pool if pool is not None else _wrap(ThreadPool, inner.thread_pool)
        return producer

    def consumer(
        self,
        name: str,
        *,
        data_selector: Any = _MISSING,
        data_allocator: Any = _MISSING,
        batch_size: int = AdaptiveBatchSize,
        max_num_batches: int = 2,
        thread_pool: ThreadPool | None = None,
        targets: list[int] | None = None,
        options: Any = None,
    ) -> Consumer:
        if (data_selector is _MISSING) != (data_allocator is _MISSING):
            raise TypeError(
                "consumer(): incompatible function arguments: data_selector and data_allocator "
                "go together"
            )
        functions: dict[str, Any] = {}
        if data_selector is not _MISSING:
            functions["data_selector"] = _selector(data_selector)
            functions["data_allocator"] = _allocator(data_allocator)
        inner_pool, pool = self._pool(thread_pool)
        inner = _call(
            self._inner.consumer,
            name,
            batch_size=batch_size,
            max_num_batches=max_num_batches,
            thread_pool=inner_pool,
            targets=targets,
            options={} if options is None else options,
            **functions,
        )
        consumer: Consumer = _wrap(Consumer, inner)
        consumer._topic = self
        consumer._pool = pool if pool is not None else _wrap(ThreadPool, inner.thread_pool)
        consumer._data_owned = data_allocator is not None
        return consumer


def _selector(selector: Any) -> Any:
    if selector is None:
        return None

    def select(metadata: Any, descriptor: Any) -> Any:
        chosen = selector(metadata, DataDescriptor._of(descriptor))
        if chosen is None:
            return _api.DataDescriptor()
        if not isinstance(chosen, DataDescriptor):
            raise TypeError("data_selector must return a DataDescriptor or None")
        return chosen._inner

    return select


def _allocator(allocator: Any) -> Any:
    if allocator is None:
        return None

    def allocate(metadata: Any, descriptor: Any) -> Any:
        return allocator(metadata, DataDescriptor._of(descriptor))

    return allocate


_DEFAULT_VALIDATOR = Validator.from_metadata()
_DEFAULT_PARTITION_SELECTOR = PartitionSelector.from_metadata()
_DEFAULT_SERIALIZER = Serializer.from_metadata()


class Driver:
    """``Driver(*, backend, options={})``."""

    def __init__(self, *, backend: str, options: Any = None) -> None:
        self._inner = _call(
            _api.Driver, backend=backend, options={} if options is None else options
        )
        self._default_pool = _wrap(ThreadPool, self._inner.default_thread_pool)

    @_translated
    def create_topic(
        self,
        name: str,
        *,
        options: Any = None,
        validator: Any = _DEFAULT_VALIDATOR,
        partition_selector: Any = _DEFAULT_PARTITION_SELECTOR,
        serializer: Any = _DEFAULT_SERIALIZER,
    ) -> None:
        self._inner.create_topic(
            name,
            options={} if options is None else options,
            validator=None if validator is None else validator._inner,
            partition_selector=None if partition_selector is None else partition_selector._inner,
            serializer=None if serializer is None else serializer._inner,
        )

    def open_topic(self, name: str) -> TopicHandle:
        return _wrap(TopicHandle, _call(self._inner.open_topic, name))  # type: ignore[no-any-return]

    def topic_exists(self, name: str) -> bool:
        return bool(_call(self._inner.topic_exists, name))

    def list_topics(self) -> dict[str, Any]:
        return dict(_call(self._inner.list_topics))

    def make_thread_pool(self, count: int) -> ThreadPool:
        return _wrap(ThreadPool, _call(self._inner.make_thread_pool, count))  # type: ignore[no-any-return]

    @property
    def default_thread_pool(self) -> ThreadPool:
        return self._default_pool  # type: ignore[no-any-return]
