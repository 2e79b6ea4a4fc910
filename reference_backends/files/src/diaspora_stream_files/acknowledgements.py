"""Acknowledged positions of consumers, in files the C++ driver ignores.

``<topic>/consumers/<encoded consumer name>/<%08d partition>`` holds, as 20 zero-padded decimal
digits and a newline, the last event id of that partition the consumer acknowledged (see
:func:`layout.consumer_dir_name` for the encoding). A new position overwrites the old one in
place with one 21-byte ``pwrite`` at offset 0: within one page and one disk sector, so a crash
leaves either the old or the new position, and an acknowledgement costs a few microseconds (a
consumer often acknowledges every event). Positions never move backwards: acknowledging an id
lower than the stored one changes nothing.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref

from diaspora_stream.exceptions import Exception as DiasporaException

from .fileio import close_descriptors
from .layout import (
    CONSUMER_NAME_FILE,
    CONSUMERS_DIR,
    consumer_dir_name,
    consumer_name_of,
    partition_dir_name,
)

__all__ = ["AcknowledgementStore"]

# Serializes acknowledgements of every topic handle of this process (cheap, and makes the
# read-compare-replace sequence exact between handles even without file locks).
_process_lock = threading.Lock()
_POSITION_SIZE = 21  # 20 decimal digits (any uint64) and a newline


class AcknowledgementStore:
    """Stores and loads acknowledged positions of one topic."""

    def __init__(
        self, topic_dir: str, label: str, *, use_file_locking: bool, durable: bool
    ) -> None:
        """``durable``: fsync each new position (when ``flush_behavior`` is not buffered)."""
        self._root = os.path.join(topic_dir, CONSUMERS_DIR)
        self._label = label
        self._use_file_locking = use_file_locking
        self._durable = durable
        # (consumer name, partition) -> a position known to be stored (a lower bound).
        self._known: dict[tuple[str, int], int] = {}
        # (consumer name, partition) -> open position file.
        self._fds: dict[tuple[str, int], int] = {}
        self._closer = weakref.finalize(self, _close_all, self._fds)

    def _directory(self, consumer_name: str) -> str:
        return os.path.join(self._root, consumer_dir_name(consumer_name))

    def store(self, consumer_name: str, partition: int, event_id: int) -> None:
        """Record ``event_id`` as acknowledged in ``partition`` unless a later one is stored."""
        key = (consumer_name, partition)
        known = self._known.get(key)
        if known is not None and known >= event_id:
            return
        path = os.path.join(self._directory(consumer_name), partition_dir_name(partition))
        try:
            with _process_lock:
                fd = self._fds.get(key)
                if fd is None:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    self._keep_name(consumer_name)
                    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
                    self._fds[key] = fd
                if self._use_file_locking:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    stored = _parse_position(os.pread(fd, _POSITION_SIZE, 0), path)
                    if stored is None or stored < event_id:
                        os.pwrite(fd, b"%020d\n" % event_id, 0)
                        if self._durable:
                            os.fsync(fd)
                        stored = event_id
                    self._known[key] = stored
                finally:
                    if self._use_file_locking:
                        fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError as error:
            raise DiasporaException(
                f"Failed to store the acknowledgement of consumer {consumer_name!r} for "
                f"{self._label}, partition {partition} in {path}: {error.strerror or error}"
            ) from None

    def _keep_name(self, consumer_name: str) -> None:
        """Write the name beside the positions when the directory name is a digest."""
        directory = self._directory(consumer_name)
        if consumer_name_of(os.path.basename(directory)) is not None:
            return
        path = os.path.join(directory, CONSUMER_NAME_FILE)
        if os.path.exists(path):
            return
        temporary = f"{path}.{os.getpid()}.{threading.get_ident()}"
        with open(temporary, "wb") as stream:
            stream.write(consumer_name.encode("utf-8", "surrogatepass"))
        os.replace(temporary, path)

    def names(self) -> list[str]:
        """Every consumer name with a stored position directory."""
        try:
            entries = [entry for entry in os.scandir(self._root) if entry.is_dir()]
        except FileNotFoundError:
            return []
        except OSError as error:
            raise DiasporaException(
                f"Failed to list the consumers of {self._label} in {self._root}: {error.strerror}"
            ) from None
        names = []
        for entry in entries:
            name = consumer_name_of(entry.name)
            if name is None:
                try:
                    with open(os.path.join(entry.path, CONSUMER_NAME_FILE), "rb") as stream:
                        name = stream.read().decode("utf-8", "surrogatepass")
                except (OSError, UnicodeDecodeError):
                    continue  # a digest directory whose name file is not written yet
            names.append(name)
        return sorted(names)

    def close(self) -> None:
        """Close the position files kept open by :meth:`store`."""
        with _process_lock:
            self._closer()

    def load(self, consumer_name: str, num_partitions: int) -> dict[int, int]:
        """``{partition: last acknowledged id}`` of ``consumer_name`` (partitions without one
        are absent)."""
        directory = self._directory(consumer_name)
        positions: dict[int, int] = {}
        try:
            entries = list(os.scandir(directory))
        except FileNotFoundError:
            return positions
        except OSError as error:
            raise DiasporaException(
                f"Failed to read the acknowledgements of consumer {consumer_name!r} in "
                f"{directory}: {error.strerror}"
            ) from None
        for entry in entries:
            name = entry.name
            if not (name.isascii() and name.isdigit()):
                continue  # temporary files
            partition = int(name)
            if partition >= num_partitions:
                continue
            position = _read_position(entry.path)
            if position is not None:
                positions[partition] = position
                with _process_lock:
                    key = (consumer_name, partition)
                    self._known[key] = max(self._known.get(key, position), position)
        return positions


def _close_all(fds: dict[tuple[str, int], int]) -> None:
    """Close the position files of a store (without the process lock: see the finalizer)."""
    close_descriptors(fds.values())
    fds.clear()


def _read_position(path: str) -> int | None:
    """The position stored in ``path``, or ``None`` if there is none."""
    try:
        with open(path, "rb") as stream:
            return _parse_position(stream.read(_POSITION_SIZE), path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise DiasporaException(
            f"Could not read the acknowledgement file {path}: {error.strerror or error}; it "
            "must be a regular file (remove it to restart that consumer from the beginning)"
        ) from None


def _parse_position(text: bytes, path: str) -> int | None:
    if not text:
        return None  # created, nothing written yet
    try:
        return int(text.strip())
    except ValueError:
        raise DiasporaException(
            f"Invalid acknowledgement file {path}: expected a decimal event id, got "
            f"{text[:40]!r}; remove the file to restart that consumer from the beginning"
        ) from None
