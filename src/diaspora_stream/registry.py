"""Registries of drivers and components, found by name (design.md D5).

A name is resolved, in order, among: names registered in this process (built-ins and
``register_*`` calls), entry points of the kind's group, and, for ``"name:python.module"``, the
names registered by importing ``python.module`` (the Python counterpart of the C++
``"name:libname.so"`` form).
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Any, TypeVar

from .exceptions import Exception as DiasporaException

if TYPE_CHECKING:
    from importlib import metadata as importlib_metadata

__all__ = [
    "Registry",
    "drivers",
    "validators",
    "serializers",
    "partition_selectors",
    "register_driver",
    "register_validator",
    "register_serializer",
    "register_partition_selector",
]

T = TypeVar("T")


class Registry:
    """Maps names to factories (classes with a ``create(metadata)`` classmethod)."""

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._entries: dict[str, Any] = {}
        self._entry_points: dict[str, importlib_metadata.EntryPoint] | None = None
        self._lock = threading.Lock()

    def register(self, name: str, factory: Any) -> None:
        """Register ``factory`` under ``name`` (a later registration replaces an earlier one)."""
        with self._lock:
            self._entries[name] = factory

    def _installed(self) -> dict[str, importlib_metadata.EntryPoint]:
        """The group's entry points, read once (lock held)."""
        if self._entry_points is None:
            # Imported on first use: it is a good part of the package's import time.
            from importlib import metadata as importlib_metadata

            self._entry_points = {
                entry.name: entry for entry in importlib_metadata.entry_points(group=self.group)
            }
        return self._entry_points

    def _find(self, name: str) -> Any | None:
        with self._lock:
            if name in self._entries:
                return self._entries[name]
            entry = self._installed().get(name)
        if entry is None:
            return None
        try:
            factory = entry.load()
        except Exception as error:
            raise DiasporaException(
                f"Could not load {self.kind} {name!r} from entry point {entry.value!r}: {error}"
            ) from error
        self.register(name, factory)
        return factory

    def name_of(self, factory: Any) -> str | None:
        """The name ``factory`` was registered under in this process, if any."""
        with self._lock:
            for name, registered in self._entries.items():
                if registered is factory:
                    return name
        return None

    def names(self) -> list[str]:
        """Every name known now (registered or installed as an entry point)."""
        with self._lock:
            return sorted(set(self._entries) | set(self._installed()))

    def resolve(self, key: str) -> Any:
        """Return the factory for ``key`` (``"name"`` or ``"name:python.module"``)."""
        if not isinstance(key, str) or not key:
            raise DiasporaException(f"A {self.kind} type must be a non-empty string, got {key!r}")
        name, _, module = key.partition(":")
        factory = self._find(name)
        if factory is not None:
            return factory
        if not module:
            known = ", ".join(self.names()) or "none"
            raise DiasporaException(
                f"Unknown {self.kind} {name!r}: it is not registered (known: {known}). Install "
                f"the package that provides it (entry point group {self.group!r}) or name its "
                f'module as "{name}:python.module"'
            )
        try:
            importlib.import_module(module)
        except Exception as error:
            raise DiasporaException(
                f"Could not import module {module!r} for {self.kind} {name!r}: {error}"
            ) from error
        factory = self._find(name)
        if factory is None:
            raise DiasporaException(
                f"Factory method not found for type {name}: importing {module!r} did not "
                f"register a {self.kind} named {name!r}"
            )
        return factory


drivers = Registry("driver", "diaspora_stream.drivers")
validators = Registry("validator", "diaspora_stream.validators")
serializers = Registry("serializer", "diaspora_stream.serializers")
partition_selectors = Registry("partition selector", "diaspora_stream.partition_selectors")


def _decorator(registry: Registry, name: str, factory: T | None) -> Any:
    if factory is not None:
        registry.register(name, factory)
        return factory

    def decorate(cls: T) -> T:
        registry.register(name, cls)
        return cls

    return decorate


def register_driver(name: str, factory: Any = None) -> Any:
    """Register a driver class (``LogDriver`` or ``DriverInterface`` subclass) under ``name``.

    Usable as a call or as a class decorator: ``@register_driver("mine")``.
    """
    return _decorator(drivers, name, factory)


def register_validator(name: str, factory: Any = None) -> Any:
    """Register a ``ValidatorInterface`` subclass under ``name`` (call or decorator)."""
    return _decorator(validators, name, factory)


def register_serializer(name: str, factory: Any = None) -> Any:
    """Register a ``SerializerInterface`` subclass under ``name`` (call or decorator)."""
    return _decorator(serializers, name, factory)


def register_partition_selector(name: str, factory: Any = None) -> Any:
    """Register a ``PartitionSelectorInterface`` subclass under ``name`` (call or decorator)."""
    return _decorator(partition_selectors, name, factory)
