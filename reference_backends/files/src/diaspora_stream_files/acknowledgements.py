"""Acknowledged positions of consumers, in files the C++ driver ignores.

``<topic>/consumers/<encoded consumer name>/<%08d partition>`` holds, as decimal text, the last
event id of that partition the consumer acknowledged (see :func:`layout.consumer_dir_name` for
the encoding). A position is replaced atomically (temporary file + ``os.replace``), so a crash
leaves either the old or the new position, and it never moves backwards: acknowledging an id
lower than the stored one changes nothing.
"""

from __future__ import annotations

import fcntl
import os
import threading

from diaspora_stream.exceptions import Exception as DiasporaException

from .layout import CONSUMERS_DIR, consumer_dir_name, partition_dir_name

__all__ = ["AcknowledgementStore"]

# Serializes acknowledgements of every topic handle of this process (cheap, and makes the
# read-compare-replace sequence exact between handles even without file locks).
_process_lock = threading.Lock()


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

    def _directory(self, consumer_name: str) -> str:
        return os.path.join(self._root, consumer_dir_name(consumer_name))

    def store(self, consumer_name: str, partition: int, event_id: int) -> None:
        """Record ``event_id`` as acknowledged in ``partition`` unless a later one is stored."""
        key = (consumer_name, partition)
        known = self._known.get(key)
        if known is not None and known >= event_id:
            return
        directory = self._directory(consumer_name)
        path = os.path.join(directory, partition_dir_name(partition))
        try:
            with _process_lock:
                os.makedirs(directory, exist_ok=True)
                directory_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                try:
                    if self._use_file_locking:
                        fcntl.flock(directory_fd, fcntl.LOCK_EX)
                    stored = _read_position(path)
                    if stored is None or stored < event_id:
                        self._replace(directory, directory_fd, path, partition, event_id)
                        stored = event_id
                    self._known[key] = stored
                finally:
                    os.close(directory_fd)  # also releases the flock
        except OSError as error:
            raise DiasporaException(
                f"Failed to store the acknowledgement of consumer {consumer_name!r} for "
                f"{self._label}, partition {partition} in {path}: {error.strerror or error}"
            ) from None

    def _replace(
        self, directory: str, directory_fd: int, path: str, partition: int, event_id: int
    ) -> None:
        temporary = os.path.join(
            directory,
            f".{partition_dir_name(partition)}.{os.getpid()}.{threading.get_ident()}.tmp",
        )
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, f"{event_id}\n".encode("ascii"))
            if self._durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
        if self._durable:
            os.fsync(directory_fd)

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


def _read_position(path: str) -> int | None:
    """The position stored in ``path``, or ``None`` if there is none."""
    try:
        with open(path, "rb") as stream:
            text = stream.read()
    except FileNotFoundError:
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise DiasporaException(
            f"Invalid acknowledgement file {path}: expected a decimal event id, got "
            f"{text[:40]!r}; remove the file to restart that consumer from the beginning"
        ) from None
