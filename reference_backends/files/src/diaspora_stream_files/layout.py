"""Names and paths of the on-disk layout (C++ files driver, reference-api.md §5.2).

::

    <root_path>/
      <topic>/
        validator.json  serializer.json  partition-selector.json
        partitions/%08d/{data,metadata,index}
        partitions/%08d/complete                   (marked complete; this backend only)
        consumers/<encoded consumer name>/%08d     (this backend only; the C++ driver ignores it)
        consumers/<encoded consumer name>/name     (the name, when its encoding is a digest)

Topics are built in a hidden directory of ``root_path`` whose name starts with
:data:`TEMPORARY_PREFIX` and renamed into place; such directories are never topics.
"""

from __future__ import annotations

import hashlib
import re

__all__ = [
    "PARTITIONS_DIR",
    "CONSUMERS_DIR",
    "DATA_FILE",
    "METADATA_FILE",
    "INDEX_FILE",
    "COMPONENT_FILES",
    "TEMPORARY_PREFIX",
    "FILE_MODE",
    "partition_dir_name",
    "parse_partition_name",
    "is_temporary_name",
    "consumer_dir_name",
    "consumer_name_of",
    "COMPLETE_FILE",
    "CONSUMER_NAME_FILE",
]

PARTITIONS_DIR = "partitions"
CONSUMERS_DIR = "consumers"
DATA_FILE = "data"
METADATA_FILE = "metadata"
INDEX_FILE = "index"
#: Present in a partition's directory once the partition is marked complete.
COMPLETE_FILE = "complete"
#: In a consumer's directory whose name is a digest: the consumer's name in UTF-8.
CONSUMER_NAME_FILE = "name"
#: Mode of the data, metadata and index files (subject to the umask), as the C++ driver.
FILE_MODE = 0o644

#: ``TopicConfig`` field -> (file name, human name used in messages), in the C++ writing order.
COMPONENT_FILES: dict[str, tuple[str, str]] = {
    "validator": ("validator.json", "Validator"),
    "serializer": ("serializer.json", "Serializer"),
    "partition_selector": ("partition-selector.json", "Partition selector"),
}

#: Prefix of the hidden directories in which topics are built before being renamed into place.
TEMPORARY_PREFIX = ".diaspora-files-tmp-"

# strtoull-like: leading whitespace, an optional '+', then decimal digits; the rest is ignored.
# A '-' sign (which strtoull would wrap around to a huge number) is not accepted.
_PARTITION_NAME = re.compile(r"[ \t\n\v\f\r]*\+?([0-9]+)")
# Bytes of a consumer name kept as they are in its directory name; everything else is %XX.
_KEPT_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_MAX_DIR_NAME = 200


def partition_dir_name(partition: int) -> str:
    """Directory name of a partition: decimal, zero-padded to width 8 (``printf("%08zu")``)."""
    return f"{partition:08d}"


def parse_partition_name(name: str) -> int | None:
    """Partition number of a directory name as the C++ driver parses it, or ``None``."""
    match = _PARTITION_NAME.match(name)
    return int(match.group(1)) if match else None


def is_temporary_name(name: str) -> bool:
    """Whether ``name`` is one of the hidden directories used while creating a topic."""
    return name.startswith(TEMPORARY_PREFIX)


def consumer_dir_name(consumer_name: str) -> str:
    """Directory name holding the acknowledged positions of ``consumer_name``.

    The UTF-8 bytes of the name are percent-encoded except ASCII letters, digits, ``_`` and
    ``-``, so any name (with ``/``, spaces, dots, unicode) is one safe path component and
    distinct names give distinct directories. The empty name is ``%``. Names whose encoding
    would be too long for a file name keep a prefix followed by ``~`` and a SHA-256 digest
    (``~`` never appears in an encoding).
    """
    raw = consumer_name.encode("utf-8", "surrogatepass")
    if not raw:
        return "%"
    encoded = "".join(chr(byte) if byte in _KEPT_BYTES else f"%{byte:02X}" for byte in raw)
    if len(encoded) > _MAX_DIR_NAME:
        encoded = encoded[:160] + "~" + hashlib.sha256(raw).hexdigest()[:32]
    return encoded


def consumer_name_of(dir_name: str) -> str | None:
    """The consumer name a :func:`consumer_dir_name` encodes, or ``None`` when the directory
    name is a digest (the name is then in its :data:`CONSUMER_NAME_FILE`) or no encoding."""
    if dir_name == "%":
        return ""
    if "~" in dir_name:
        return None
    raw = bytearray()
    position = 0
    while position < len(dir_name):
        char = dir_name[position]
        if char == "%":
            try:
                raw.append(int(dir_name[position + 1 : position + 3], 16))
            except ValueError:
                return None
            position += 3
        elif char.isascii() and ord(char) in _KEPT_BYTES:
            raw.append(ord(char))
            position += 1
        else:
            return None
    try:
        return raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return None
