"""The public component classes ``Validator``, ``Serializer``, ``PartitionSelector``.

Each wraps an implementation (a :mod:`~diaspora_stream.components.interfaces` subclass) and is
created with ``from_metadata(**config)``, like the C++ binding. ``create_topic`` also accepts an
implementation instance directly, so components can be written in Python (D5).
"""

from __future__ import annotations

import weakref
from typing import Any, ClassVar, Generic, TypeVar

from .. import registry
from ..exceptions import Exception as DiasporaException
from ..exceptions import InvalidArgument
from ..json_codec import to_json_value
from .interfaces import (
    PartitionSelectorInterface,
    SerializerInterface,
    ValidatorInterface,
    _Component,
)

__all__ = ["Validator", "Serializer", "PartitionSelector", "component_metadata"]

ImplT = TypeVar("ImplT", bound=_Component)

# The "name:python.module" key each implementation was created from, so that its stored
# metadata keeps the module and another process can re-create the component (D5).
_created_from: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _creation_key(implementation: Any) -> str | None:
    try:
        return _created_from.get(implementation)
    except TypeError:  # not weak-referenceable or not hashable
        return None


class _Public(Generic[ImplT]):
    _kind: ClassVar[str]
    _interface: ClassVar[type[_Component]]
    _registry: ClassVar[registry.Registry]

    __slots__ = ("_impl",)

    def __init__(self, implementation: ImplT | None = None) -> None:
        if implementation is None:
            implementation = self._registry.resolve("default").create({"type": "default"})
        if not isinstance(implementation, self._interface):
            raise InvalidArgument(
                f"{type(self).__name__} needs a {self._interface.__name__} instance, "
                f"got {type(implementation).__name__}"
            )
        self._impl = implementation

    @property
    def implementation(self) -> ImplT:
        """The component implementation this object wraps."""
        return self._impl

    @classmethod
    def from_metadata(cls, **config: Any) -> Any:
        """Create the component described by ``config`` (``type=`` names it; none: default)."""
        return cls(cls._create(to_json_value(config)))

    @classmethod
    def _create(cls, config: Any) -> Any:
        if not isinstance(config, dict):
            raise DiasporaException(
                f"Cannot create {cls._kind} from Metadata: invalid Metadata (expected JSON object)"
            )
        type_name = config.get("type", "default")
        if not isinstance(type_name, str):
            raise DiasporaException(
                f'Cannot create {cls._kind} from Metadata: invalid "type" field in Metadata '
                "(expected string)"
            )
        factory = cls._registry.resolve(type_name)
        implementation = factory.create(config)
        if not isinstance(implementation, cls._interface):
            raise DiasporaException(
                f"{cls._kind} type {type_name!r} created a {type(implementation).__name__}, which "
                f"is not a {cls._interface.__name__}"
            )
        if ":" in type_name:
            try:
                _created_from[implementation] = type_name
            except TypeError:  # not weak-referenceable or not hashable
                pass
        return implementation

    @classmethod
    def implementation_from(cls, value: Any, *, default_if_none: bool) -> Any:
        """Return the implementation for a ``create_topic`` argument or a stored config.

        Accepts a public wrapper, an implementation instance, a metadata dict, or ``None``.
        """
        if value is None:
            return cls._create({}) if default_if_none else None
        if isinstance(value, cls):
            return value._impl
        if isinstance(value, cls._interface):
            return value
        if isinstance(value, dict):
            return cls._create(value)
        raise InvalidArgument(
            f"Expected a {cls.__name__}, a {cls._interface.__name__} or None, "
            f"got {type(value).__name__}"
        )

    def metadata(self) -> dict[str, Any]:
        """The JSON object that re-creates this component (always with ``"type"``)."""
        return component_metadata(self._impl, self._registry)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.metadata()!r})"


def component_metadata(implementation: _Component, reg: registry.Registry) -> dict[str, Any]:
    """Return ``implementation.metadata()`` with its ``"type"`` filled in (D5)."""
    config = to_json_value(implementation.metadata())
    if not isinstance(config, dict):
        raise DiasporaException(
            f"{type(implementation).__name__}.metadata() must return a JSON object, "
            f"got {type(config).__name__}"
        )
    key = _creation_key(implementation)
    if key is not None and config.get("type", key.partition(":")[0]) == key.partition(":")[0]:
        config["type"] = key
    if not config.get("type"):  # missing, or "" from a class without type_name
        name = implementation.type_name or reg.name_of(type(implementation))
        if not name:
            raise DiasporaException(
                f"{type(implementation).__name__} has no type name: set its `type_name` class "
                "attribute to the name it is registered under"
            )
        config["type"] = name
    return config


class Validator(_Public[ValidatorInterface]):
    """Checks events before they are stored (``Validator.from_metadata(type="schema", ...)``)."""

    _kind = "Validator"
    _interface = ValidatorInterface
    _registry = registry.validators
    __slots__ = ()


class Serializer(_Public[SerializerInterface]):
    """Converts metadata to bytes and back (``Serializer.from_metadata(type="default")``)."""

    _kind = "Serializer"
    _interface = SerializerInterface
    _registry = registry.serializers
    __slots__ = ()


class PartitionSelector(_Public[PartitionSelectorInterface]):
    """Chooses each event's partition (``PartitionSelector.from_metadata()``)."""

    _kind = "PartitionSelector"
    _interface = PartitionSelectorInterface
    _registry = registry.partition_selectors
    __slots__ = ()
