"""The public :class:`Driver`: a backend chosen by name."""

from __future__ import annotations

import weakref
from typing import Any

from . import registry
from ._args import name_argument, options_argument, size_argument
from .backend.capabilities import Capabilities
from .backend.full import DriverInterface
from .backend.log import LogDriver
from .backend.log_adapter import LogDriverAdapter
from .components.public import PartitionSelector, Serializer, Validator
from .exceptions import Exception as DiasporaException
from .logs import get_logger
from .thread_pool import ThreadPool
from .topic import TopicHandle

__all__ = ["Driver", "create_driver_interface"]

_LOGGER = get_logger("driver")

_DEFAULT: Any = object()


def create_driver_interface(backend: str, options: dict[str, Any]) -> DriverInterface:
    """Find the backend ``backend`` (``"name"`` or ``"name:python.module"``) and create it."""
    factory = registry.drivers.resolve(backend)
    create = getattr(factory, "create", None)
    if create is None:
        raise DiasporaException(
            f"Driver {backend!r} resolved to {factory!r}, which has no create(options) method"
        )
    driver = create(options)
    if isinstance(driver, LogDriver):
        return LogDriverAdapter(driver, backend.partition(":")[0])
    if isinstance(driver, DriverInterface):
        return driver
    raise DiasporaException(
        f"Driver {backend!r} created a {type(driver).__name__}, which is neither a LogDriver nor "
        "a DriverInterface"
    )


class Driver:
    """A backend instance: creates, opens and lists topics (``Driver(backend="files")``).

    Usable as a context manager: ``with Driver(backend="files") as driver:`` closes the driver
    (and what it opened) at the end of the block.
    """

    __slots__ = ("__weakref__", "_default_pool", "_impl", "_topics", "backend")

    def __init__(self, *, backend: str, options: Any = None) -> None:
        name_argument("backend", backend)
        self.backend = backend
        options = options_argument("options", options)
        self._impl = create_driver_interface(backend, options)
        self._default_pool = ThreadPool(0)
        self._topics: weakref.WeakSet[TopicHandle] = weakref.WeakSet()
        _LOGGER.info("Driver %r created (options: %s)", backend, sorted(options))

    @property
    def capabilities(self) -> Capabilities:
        """What the backend declares it can do."""
        return self._impl.capabilities

    @property
    def provenance(self) -> dict[str, Any]:
        """What is behind the backend (e.g. the foreign module a bridge drives); ``{}`` if
        nothing beyond its name and options."""
        return dict(self._impl.provenance())

    @property
    def interface(self) -> DriverInterface:
        """The backend's driver object (full-level interface)."""
        return self._impl

    def create_topic(
        self,
        name: str,
        *,
        options: Any = None,
        validator: Any = _DEFAULT,
        partition_selector: Any = _DEFAULT,
        serializer: Any = _DEFAULT,
    ) -> None:
        """Create a topic. ``options`` may hold ``num_partitions``; components default to the
        ``default`` ones; ``None`` stores none (the default is used when the topic is opened).

        Raises :class:`~diaspora_stream.api.Exception` if the topic exists: guard with
        :meth:`topic_exists` to make a program that can run twice.
        """
        options = options_argument("options", options)
        self._impl.create_topic(
            name_argument("Topic name", name),
            options,
            Validator.implementation_from(
                None if validator is _DEFAULT else validator, default_if_none=validator is _DEFAULT
            ),
            PartitionSelector.implementation_from(
                None if partition_selector is _DEFAULT else partition_selector,
                default_if_none=partition_selector is _DEFAULT,
            ),
            Serializer.implementation_from(
                None if serializer is _DEFAULT else serializer,
                default_if_none=serializer is _DEFAULT,
            ),
        )
        _LOGGER.info("Topic %r created on %r (options: %s)", name, self.backend, options)

    def open_topic(self, name: str) -> TopicHandle:
        """Open an existing topic."""
        topic = TopicHandle(self._impl.open_topic(name_argument("Topic name", name)), self)
        self._topics.add(topic)
        return topic

    def topic_exists(self, name: str) -> bool:
        """Whether a topic named ``name`` exists."""
        return self._impl.topic_exists(name_argument("Topic name", name))

    def list_topics(self) -> dict[str, dict[str, Any]]:
        """Map each topic's name to a JSON object describing it."""
        return self._impl.list_topics()

    @property
    def default_thread_pool(self) -> ThreadPool:
        """The driver's pool with 0 threads (work runs in the calling thread)."""
        return self._default_pool

    def make_thread_pool(self, count: int) -> ThreadPool:
        """A new pool of ``count`` threads."""
        return self._impl.make_thread_pool(size_argument("count", count))

    def close(self) -> None:
        """Close the topic handles opened through this driver, then release the backend's
        resources. Closing twice does nothing more."""
        topics, self._topics = list(self._topics), weakref.WeakSet()
        for topic in topics:
            topic.close()
        self._impl.close()

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Driver backend={self.backend!r}>"
