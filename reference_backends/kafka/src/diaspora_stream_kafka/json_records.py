"""Records of the Diaspora Event SDK: plain JSON values.

The SDK's producers write ``json.dumps(value).encode()`` as the record value (no size header,
no data part, optionally a raw key) and its consumers ``json.loads`` each value.

Reading such a record is never ambiguous with the Octopus layout (:mod:`.records`), which is
checked first: a value in that layout starts with its metadata size as a little-endian u64
that equals at most the value's length, far below ``2**56``, so its eighth byte is 0; JSON text
holds no NUL byte (RFC 8259 allows none outside strings, and none unescaped inside). So a value
is either an event, or JSON, or neither, and consumers deliver JSON values by default.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from diaspora_stream.event import Event
from diaspora_stream.exceptions import InvalidMetadata
from diaspora_stream.json_codec import loads

__all__ = ["NOT_JSON", "JsonRecordEvent", "document_of", "json_value"]

#: What :func:`document_of` returns for a value that is not a JSON document.
NOT_JSON: Any = object()


def document_of(value: bytes) -> Any:
    """The JSON document ``value`` holds (UTF-8, strict RFC 8259), or :data:`NOT_JSON`."""
    try:
        return loads(value)
    except InvalidMetadata:
        return NOT_JSON


def json_value(metadata: Any) -> bytes:
    """The record value the Diaspora Event SDK's producer writes for ``metadata``."""
    return json.dumps(metadata).encode()


class JsonRecordEvent(Event):
    """An event read from a plain JSON record: ``metadata`` is the document, ``data`` is empty,
    and ``key`` is the record's key (``bytes``, or ``None`` when it has none)."""

    __slots__ = ("key",)

    def __init__(
        self,
        metadata: Any,
        data: Any,
        event_id: int,
        partition: dict[str, Any],
        partition_index: int,
        acknowledger: Callable[[int, int], None],
        key: bytes | None,
    ) -> None:
        super().__init__(metadata, data, event_id, partition, partition_index, acknowledger)
        self.key = key
