"""The backend under test: how the suite creates drivers and names topics."""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from typing import Any

from diaspora_stream.api import Capabilities, Driver
from diaspora_stream.backend.placeholders import has_placeholder, substitute_placeholders

__all__ = ["BackendUnderTest", "substitute_placeholders"]

_counter = itertools.count()
_created_directories: list[str] = []


@atexit.register
def _remove_directories() -> None:
    for directory in _created_directories:
        shutil.rmtree(directory, ignore_errors=True)


def _new_directory() -> str:
    directory = tempfile.mkdtemp(prefix="diaspora-conformance-")
    _created_directories.append(directory)
    return directory


@dataclass
class BackendUnderTest:
    """A backend name with its driver and topic options.

    ``options`` may contain the placeholder ``"{tmp}"`` (e.g. ``{"root_path": "{tmp}"}``): it is
    replaced by a fresh temporary directory per :meth:`driver` call with ``fresh=True``, or by
    one directory shared by the whole run otherwise.
    """

    name: str
    options: dict[str, Any] = field(default_factory=dict)
    topic_options: dict[str, Any] = field(default_factory=dict)
    _shared_directory: str | None = field(default=None, repr=False)
    _capabilities: Capabilities | None = field(default=None, repr=False)
    _provenance: dict[str, Any] | None = field(default=None, repr=False)

    def _directory(self, fresh: bool) -> str:
        if fresh:
            return _new_directory()
        if self._shared_directory is None:
            self._shared_directory = _new_directory()
        return self._shared_directory

    def resolved_options(self, fresh: bool = False) -> dict[str, Any]:
        """The driver options with placeholders substituted (directories removed at exit)."""
        if not has_placeholder(self.options):
            return dict(self.options)
        return substitute_placeholders(self.options, self._directory(fresh))

    def driver(self, fresh: bool = False) -> Driver:
        """A new driver of the backend under test."""
        return Driver(backend=self.name, options=self.resolved_options(fresh))

    def topic_name(self, prefix: str = "t") -> str:
        """A topic name no other test of this run uses."""
        return f"{prefix}-{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:6]}"

    def create_topic(self, driver: Driver, num_partitions: int = 1, **components: Any) -> str:
        """Create a uniquely named topic with the configured topic options; return its name."""
        name = self.topic_name()
        options = dict(self.topic_options)
        options["num_partitions"] = num_partitions
        driver.create_topic(name, options=options, **components)
        return name

    def _describe(self) -> None:
        driver = self.driver()
        try:
            self._capabilities = driver.capabilities
            self._provenance = driver.provenance
        finally:
            driver.close()

    @property
    def capabilities(self) -> Capabilities:
        """The capabilities the backend declares (asked once)."""
        if self._capabilities is None:
            self._describe()
        assert self._capabilities is not None
        return self._capabilities

    @property
    def provenance(self) -> dict[str, Any]:
        """What the driver says is behind it (e.g. the foreign module a bridge drives; asked
        once, with the capabilities)."""
        if self._provenance is None:
            self._describe()
        assert self._provenance is not None
        return self._provenance
