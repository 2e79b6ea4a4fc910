"""The three component files of a topic (reference-api.md §5.4).

``validator.json``, ``serializer.json`` and ``partition-selector.json`` hold the component's
``metadata()`` object as nlohmann ``dump(2)`` writes it (2-space indent, sorted keys, no final
newline), or the two bytes ``{}`` for a topic created without that component.
"""

from __future__ import annotations

import os
from typing import Any

from diaspora_stream.backend.log import TopicConfig
from diaspora_stream.exceptions import Exception as DiasporaException
from diaspora_stream.json_codec import dumps_pretty, loads

from .layout import COMPONENT_FILES

__all__ = ["encode_components", "load_components", "peek_components"]

_ABSENT = b"{}"


def encode_components(config: TopicConfig) -> dict[str, bytes]:
    """File name -> bytes of each component file of a topic created with ``config``."""
    files: dict[str, bytes] = {}
    for field, (file_name, human) in COMPONENT_FILES.items():
        entry = getattr(config, field)
        try:
            files[file_name] = _ABSENT if entry is None else dumps_pretty(entry)
        except DiasporaException as error:
            raise DiasporaException(
                f"Failed to save component metadata: {human} metadata is not JSON: {error}"
            ) from None
    return files


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (dict, list)) and not value)


def load_components(topic_dir: str) -> dict[str, Any]:
    """``TopicConfig`` field -> stored component (``None`` if stored as null, ``{}`` or ``[]``).

    Raises if a file is missing or is not JSON, naming the file.
    """
    result: dict[str, Any] = {}
    for field, (file_name, human) in COMPONENT_FILES.items():
        path = os.path.join(topic_dir, file_name)
        try:
            with open(path, "rb") as stream:
                text = stream.read()
        except FileNotFoundError:
            raise DiasporaException(f"{human} file does not exist: {path}") from None
        except OSError as error:
            raise DiasporaException(f"Could not read {path}: {error.strerror}") from None
        try:
            value = loads(text)
        except DiasporaException as error:
            detail = str(error).removeprefix("Could not parse JSON: ")
            raise DiasporaException(
                f"Could not parse JSON in {path}: {detail}; the file must hold the "
                f"{human.lower()}'s JSON metadata (or {{}} for the default one)"
            ) from None
        result[field] = None if _is_empty(value) else value
    return result


def peek_components(topic_dir: str) -> dict[str, Any]:
    """``list_topics`` keys -> parsed JSON of each readable component file (others omitted)."""
    result: dict[str, Any] = {}
    for field, (file_name, _) in COMPONENT_FILES.items():
        try:
            with open(os.path.join(topic_dir, file_name), "rb") as stream:
                result[field] = loads(stream.read())
        except (OSError, DiasporaException):
            continue
    return result
