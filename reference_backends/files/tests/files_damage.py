"""Test helpers: damaging a files-backend partition and reading a topic back through the API."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from diaspora_stream.api import Driver

#: Where partition 0 of topic ``t`` lives under a root.
PARTITION = Path("t") / "partitions" / "00000000"
#: Metadata and data of an event.
Events = list[tuple[Any, bytes]]


def flip(offset: int) -> Callable[[Path], None]:
    """Flip one bit of the byte at ``offset``."""

    def damage(path: Path) -> None:
        content = bytearray(path.read_bytes())
        content[offset] ^= 1 << (offset % 8)
        path.write_bytes(bytes(content))

    return damage


def truncate(size: int) -> Callable[[Path], None]:
    """Cut the file to ``size`` bytes."""
    return lambda path: os.truncate(path, size)


def put(offset: int, value: int) -> Callable[[Path], None]:
    """Write ``value`` as a little-endian u64 at ``offset``."""

    def damage(path: Path) -> None:
        with open(path, "r+b") as stream:
            stream.seek(offset)
            stream.write(struct.pack("<Q", value))

    return damage


def make_directory(path: Path) -> None:
    """Replace the file by a directory."""
    path.unlink()
    path.mkdir()
    (path / "inside").write_bytes(b"x")


def driver(root: Path, integrity: bool) -> Driver:
    """A files driver on ``root``, with checksums when ``integrity``."""
    options: dict[str, object] = {"root_path": str(root)}
    if integrity:
        options["integrity"] = True
    return Driver(backend="files", options=options)


def write_topic(root: Path, integrity: bool, events: Events) -> None:
    """Create topic ``t`` (one partition) holding ``events``."""
    files = driver(root, integrity)
    files.create_topic("t", options={"num_partitions": 1})
    producer = files.open_topic("t").producer()
    for metadata, data in events:
        producer.push(metadata, data)
    producer.flush().wait()


def read_back(root: Path, integrity: bool, count: int) -> Events:
    """Pull (at most ``count`` + 2) events of topic ``t``, without waiting."""
    consumer = driver(root, integrity).open_topic("t").consumer("reader")
    events = []
    for _ in range(count + 2):
        event = consumer.pull().wait(0)
        if event is None:
            break
        events.append((event.metadata, b"".join(bytes(view) for view in event.data)))
    return events
