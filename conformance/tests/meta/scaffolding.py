"""What every deliberately broken backend of the meta-tests is built from.

:class:`BrokenBackend` describes one broken backend (its bug in one sentence and the suite
tests that must catch it); :func:`memory_driver` makes a memory driver whose topics are
handles of a given buggy class; :func:`shared_state` keeps per-topic state that every handle
of a memory topic sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from diaspora_stream.api import LogTopic
from diaspora_stream.backends.memory import MemoryDriver, MemoryTopic

__all__ = [
    "MODULE",
    "BrokenBackend",
    "BrokenMemoryDriver",
    "backend_name",
    "memory_driver",
    "shared_state",
]

#: The module that registers every broken backend, as the ``"name:module"`` form needs it.
MODULE = "broken_backends"


@dataclass(frozen=True)
class BrokenBackend:
    """One deliberately broken backend of the meta-tests."""

    #: Registered driver name (without the ``:module`` part).
    name: str
    #: What is wrong, in one sentence.
    bug: str
    #: Behaviour ids (``Class::test``) of suite tests known to catch the bug.
    caught_by: tuple[str, ...]
    #: The driver class (a ``LogDriver`` or a full-level ``DriverInterface``).
    driver: type
    #: Driver options of the runs (``"{tmp}"`` becomes a temporary directory).
    options: dict[str, Any] = field(default_factory=dict)


def backend_name(name: str) -> str:
    """The ``"name:module"`` string that finds backend ``name`` from any process."""
    return f"{name}:{MODULE}"


class BrokenMemoryDriver(MemoryDriver):
    """The memory driver, opening topics as :attr:`topic_class` handles."""

    topic_class: ClassVar[type[MemoryTopic]] = MemoryTopic

    def open_topic(self, name: str) -> LogTopic:
        """Open ``name`` as a :attr:`topic_class` on the same shared store."""
        plain = super().open_topic(name)
        assert isinstance(plain, MemoryTopic)
        return self.topic_class(name, plain._store)


def memory_driver(topic_class: type[MemoryTopic]) -> type[BrokenMemoryDriver]:
    """A :class:`BrokenMemoryDriver` subclass opening topics as ``topic_class``."""
    return type(
        topic_class.__name__.replace("Topic", "Driver"),
        (BrokenMemoryDriver,),
        {"topic_class": topic_class, "__doc__": topic_class.__doc__, "__module__": MODULE},
    )


def shared_state(topic: MemoryTopic, key: str, factory: Callable[[], Any]) -> Any:
    """Per-topic state shared by every handle of the topic (kept on the memory store)."""
    store = topic._store
    with store.lock:
        if not hasattr(store, key):
            setattr(store, key, factory())
        return getattr(store, key)
