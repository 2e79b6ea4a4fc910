"""Entry point of the ``{{ cookiecutter.backend_name }}`` backend: options, capabilities, topics.

diaspora-stream creates the driver with ``{{ cookiecutter.title }}Driver.create(options)`` when a
user writes ``Driver(backend="{{ cookiecutter.backend_name }}", options={...})``, then calls
``create_topic``, ``open_topic``, ``topic_exists`` and ``list_topics``. This is a full-level
backend (``diaspora_stream.backend.full``): its topics make their own producers and consumers.

As generated, the topics live in the driver object, in memory (``engine.py``). Each
``CHANGE ME`` says what to replace and what the replacement must guarantee.
"""

from __future__ import annotations

from typing import Any

from diaspora_stream.api import Capabilities, ClosedError
from diaspora_stream.api import Exception as DiasporaException
from diaspora_stream.backend.full import DriverInterface
from diaspora_stream.backend.log_adapter import topic_config, topic_description
from diaspora_stream.backend.options import (
    TOPIC_OPTIONS,
    Option,
    check_topic_name,
    parse_options,
    warn_unknown_options,
)
from diaspora_stream.components.interfaces import (
    PartitionSelectorInterface,
    SerializerInterface,
    ValidatorInterface,
)

from .engine import Engine
from .topic import {{ cookiecutter.title }}Topic

__all__ = ["BACKEND", "OPTIONS", "{{ cookiecutter.title }}Driver"]

#: The name users give as ``Driver(backend=...)`` (the entry point in pyproject.toml).
BACKEND = "{{ cookiecutter.backend_name }}"

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


class {{ cookiecutter.title }}Driver(DriverInterface):
    """Creates, opens and lists the topics of the ``{{ cookiecutter.backend_name }}`` backend."""

    #: What this backend can do. CHANGE ME as your engine gains features, and be honest: the
    #: conformance suite exercises every capability declared True, and checks that every
    #: capability declared False raises UnsupportedError or behaves as documented in
    #: ``diaspora_stream.backend.capabilities`` rather than half-working.
    capabilities = Capabilities(
        # Topics live in this driver object only: a new driver (or process) does not see them.
        persistent_topics=False,
        # consumer.py records positions (engine.py, acknowledge)...
        acknowledgements=True,
        # ...in memory only, so they do not outlive the driver.
        persistent_acknowledgements=False,
        # Another process cannot reach this process's memory.
        multi_process_producers=False,
        # consumer.py copies only the selected byte ranges out of a fetched event.
        partial_data_reads=True,
        # Nothing is ever on stable storage.
        durable_flush=False,
    )

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        #: The options after checking, completed with their defaults.
        self.options = parse_options(options, OPTIONS, f"{BACKEND} driver")
        # CHANGE ME: connect to your engine here (or lazily, on first use) with self.options.
        self._engine = Engine()
        self._closed = False

    @classmethod
    def create(cls, options: dict[str, Any]) -> {{ cookiecutter.title }}Driver:
        """Create the driver from the user's options (unknown or ill-typed ones are refused)."""
        return cls(options)

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(f"The {BACKEND} driver is closed; create a new driver to use it")

    def create_topic(
        self,
        name: str,
        options: dict[str, Any],
        validator: ValidatorInterface | None,
        partition_selector: PartitionSelectorInterface | None,
        serializer: SerializerInterface | None,
    ) -> None:
        """Create topic ``name`` with the partitions its ``options`` ask for and its components.

        Components given as ``None`` are the defaults. What is stored (``topic_config``: the
        partition count, the options and each component's metadata) must come back whole in
        ``open_topic``, which rebuilds the components from it.
        """
        self._check_open()
        check_topic_name(name)
        # CHANGE ME: accept your engine's topic options (replication, retention...) here.
        warn_unknown_options(options, TOPIC_OPTIONS, f"topics of the {BACKEND} driver")
        config = topic_config(options, validator, partition_selector, serializer)
        # CHANGE ME: create the topic in your engine. Raise diaspora_stream.api.Exception if it
        # already exists (and change nothing then); make "check then create" atomic in the
        # engine if other drivers or processes can create topics at the same time.
        self._engine.create_topic(name, config)

    def open_topic(self, name: str) -> {{ cookiecutter.title }}Topic:
        """Open an existing topic; raise Exception if there is none of that name."""
        self._check_open()
        check_topic_name(name)
        # CHANGE ME: look the topic up in your engine and load its stored configuration.
        log = self._engine.find_topic(name)
        if log is None:
            raise DiasporaException(f'Could not find topic "{name}"; create it with create_topic')
        return {{ cookiecutter.title }}Topic(name, log)

    def topic_exists(self, name: str) -> bool:
        """Whether a topic of that name exists."""
        self._check_open()
        # CHANGE ME: ask your engine.
        return self._engine.find_topic(check_topic_name(name)) is not None

    def list_topics(self) -> dict[str, dict[str, Any]]:
        """Each topic's name mapped to a JSON object with at least ``name`` and
        ``num_partitions`` (and its components' metadata, when it has some)."""
        self._check_open()
        # CHANGE ME: list the topics your engine knows.
        topics = self._engine.topics()
        return {name: topic_description(name, log.config) for name, log in topics.items()}

    def close(self) -> None:
        """Release what the driver holds; topics already opened stay usable until closed.

        CHANGE ME: close connections to your engine. In memory there is nothing to release.
        """
        self._closed = True
