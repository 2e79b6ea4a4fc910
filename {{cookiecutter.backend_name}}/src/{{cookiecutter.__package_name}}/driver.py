"""Entry point of the ``{{ cookiecutter.backend_name }}`` backend: options, capabilities, topics.

diaspora-stream creates the driver with ``{{ cookiecutter.title }}Driver.create(options)`` when a
user writes ``Driver(backend="{{ cookiecutter.backend_name }}", options={...})``, then calls
``create_topic``, ``open_topic``, ``topic_exists`` and ``list_topics``. It has already checked
topic names and the ``num_partitions`` topic option.

As generated, the topics live in the driver object, in memory (see ``topic.py``). Each
``CHANGE ME`` says what to replace and what the replacement must guarantee.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from diaspora_stream.api import Capabilities, LogDriver, TopicConfig
from diaspora_stream.api import Exception as DiasporaException
from diaspora_stream.backend.options import Option, check_topic_name, parse_options

from .state import TopicState
from .topic import {{ cookiecutter.title }}Topic

__all__ = ["OPTIONS", "{{ cookiecutter.title }}Driver"]

#: The driver options users may pass, with their types and defaults.
#:
#: CHANGE ME: declare what your engine needs, for example
#: ``"address": Option(str, "127.0.0.1:9000", "where the engine's server listens")`` or
#: ``"root_path": Option(str, "./{{ cookiecutter.backend_name }}_data", "where topics live")``
#: (``.gitignore`` covers that default directory; keep them in step).
#: Unknown options and values of the wrong type are refused with a message naming the accepted
#: options (the conformance suite checks it). In tests, ``"{tmp}"`` in an option value becomes a
#: fresh temporary directory (see tests/conftest.py).
OPTIONS: dict[str, Option] = {}


class {{ cookiecutter.title }}Driver(LogDriver):
    """Creates, opens and lists the topics of the ``{{ cookiecutter.backend_name }}`` backend."""

    #: What this backend can do. CHANGE ME as your engine gains features, and be honest: the
    #: conformance suite exercises every capability declared True, and checks that every
    #: capability declared False raises UnsupportedError or behaves as documented in
    #: ``diaspora_stream.backend.capabilities`` rather than half-working.
    capabilities: ClassVar[Capabilities] = Capabilities(
        # Topics live in this driver object only: a new driver (or process) does not see them.
        persistent_topics=False,
        # topic.py records consumer positions (store_acknowledgement)...
        acknowledgements=True,
        # ...in memory only, so they do not outlive the driver.
        persistent_acknowledgements=False,
        # Another process cannot reach this process's memory.
        multi_process_producers=False,
        # read_data copies only the selected byte ranges.
        partial_data_reads=True,
        # Nothing is ever on stable storage.
        durable_flush=False,
    )

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        #: The options after checking, completed with their defaults.
        self.options = parse_options(options, OPTIONS, "{{ cookiecutter.backend_name }} driver")
        # CHANGE ME: connect to your engine here (or lazily, on first use) with self.options.
        self._topics: dict[str, TopicState] = {}
        self._lock = threading.Lock()

    @classmethod
    def create(cls, options: dict[str, Any]) -> {{ cookiecutter.title }}Driver:
        """Create the driver from the user's options (unknown or ill-typed ones are refused)."""
        return cls(options)

    def create_topic(self, name: str, config: TopicConfig) -> None:
        """Create topic ``name`` with ``config.num_partitions`` empty partitions.

        ``config`` also holds the topic options and the metadata of its validator, serializer
        and partition selector: store it as it is, ``open_topic`` must give it back.
        """
        check_topic_name(name)
        # CHANGE ME: create the topic in your engine. Raise diaspora_stream.api.Exception if it
        # already exists (and change nothing then). If other drivers or processes can create
        # topics at the same time, make "check then create" atomic in the engine, for example
        # by building the topic under a temporary name and renaming it.
        with self._lock:
            if name in self._topics:
                raise DiasporaException(
                    f"Topic already exists: {name}; open it with open_topic or choose another name"
                )
            self._topics[name] = TopicState.empty(config)

    def open_topic(self, name: str) -> {{ cookiecutter.title }}Topic:
        """Open an existing topic; raise Exception if there is none of that name."""
        # CHANGE ME: look the topic up in your engine and load its TopicConfig.
        with self._lock:
            state = self._topics.get(name)
        if state is None:
            raise DiasporaException(f'Could not find topic "{name}"; create it with create_topic')
        return {{ cookiecutter.title }}Topic(name, state)

    def topic_exists(self, name: str) -> bool:
        """Whether a topic of that name exists."""
        # CHANGE ME: ask your engine.
        with self._lock:
            return name in self._topics

    def list_topics(self) -> dict[str, dict[str, Any]]:
        """Each topic's name mapped to a JSON object with at least ``name`` and
        ``num_partitions`` (and its components' metadata, when it has some)."""
        # CHANGE ME: list the topics your engine knows.
        with self._lock:
            topics = dict(self._topics)
        listing: dict[str, dict[str, Any]] = {}
        for name, state in topics.items():
            config = state.config
            info: dict[str, Any] = {"name": name, "num_partitions": config.num_partitions}
            for key in ("validator", "serializer", "partition_selector"):
                component = getattr(config, key)
                if component is not None:
                    info[key] = component
            listing[name] = info
        return listing

    def close(self) -> None:
        """Release what the driver holds.

        CHANGE ME: close connections to your engine. In memory there is nothing to release.
        """
