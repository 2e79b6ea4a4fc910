"""Registers the built-in components under their reference names."""

from __future__ import annotations

from ..registry import register_partition_selector, register_serializer, register_validator
from .partition_selectors import DefaultPartitionSelector
from .serializers import DefaultSerializer, SchemaSerializer
from .validators import DefaultValidator, EventbridgeValidator, SchemaValidator

__all__ = ["register_builtin_components"]


def register_builtin_components() -> None:
    """Register validators ``default``, ``schema``, ``eventbridge``; serializers ``default``,
    ``schema``; partition selector ``default``."""
    register_validator("default", DefaultValidator)
    register_validator("schema", SchemaValidator)
    register_validator("eventbridge", EventbridgeValidator)
    register_serializer("default", DefaultSerializer)
    register_serializer("schema", SchemaSerializer)
    register_partition_selector("default", DefaultPartitionSelector)
