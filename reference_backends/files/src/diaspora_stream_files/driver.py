"""``FilesDriver``: creates, opens and lists the topics of a root directory.

Compatible with the C++ files driver's layout (reference-api.md §5.2-§5.5); differences:

* ``use_file_locking`` defaults to true, and appends re-read the true file ends under the locks
  (several processes may append to one partition);
* a topic is built in a hidden temporary directory and renamed into place, so a failed
  ``create_topic`` leaves nothing behind and a concurrent ``open_topic`` never sees half a topic;
* a gap in partition numbering is reported as such;
* acknowledged positions are stored under ``<topic>/consumers/`` (ignored by the C++ driver).
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from typing import Any

from diaspora_stream.backend.capabilities import Capabilities
from diaspora_stream.backend.log import LogDriver, TopicConfig
from diaspora_stream.backend.options import check_topic_name
from diaspora_stream.exceptions import ClosedError
from diaspora_stream.exceptions import Exception as DiasporaException

from .acknowledgements import AcknowledgementStore
from .components import encode_components, load_components, peek_components
from .config import FilesConfig
from .layout import (
    DATA_FILE,
    FILE_MODE,
    INDEX_FILE,
    METADATA_FILE,
    PARTITIONS_DIR,
    TEMPORARY_PREFIX,
    is_temporary_name,
    parse_partition_name,
    partition_dir_name,
)
from .partition import PartitionFiles
from .topic import FilesTopic

__all__ = ["FilesDriver"]


class FilesDriver(LogDriver):
    """Log-level backend storing each partition in three files, as the C++ files driver.

    Options (all optional): ``root_path`` (``"./diaspora_data"``), ``use_file_locking``
    (``True``), ``flush_behavior`` (``"immediate"``, ``"on_flush"`` or ``"buffered"``, the
    default), ``integrity`` (``False``; true keeps and verifies a checksum of every event).
    Unknown options and values of the wrong type are rejected.
    """

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        """Check ``options`` and create the root directory (with its parents) if missing."""
        self.config = FilesConfig.from_options(options)
        self.root_path = self.config.root_path
        # An instance attribute: durability on flush depends on the options.
        setattr(  # noqa: B010 - LogDriver declares ``capabilities`` as a ClassVar
            self,
            "capabilities",
            Capabilities(
                persistent_topics=True,
                acknowledgements=True,
                persistent_acknowledgements=True,
                multi_process_producers=self.config.use_file_locking,
                partial_data_reads=True,
                durable_flush=self.config.flush_behavior != "buffered",
                end_of_stream=True,
                replay=True,
                consumer_positions=True,
            ),
        )
        self._durable = self.config.flush_behavior != "buffered"
        self._closed = False
        self._make_root()

    @classmethod
    def create(cls, options: dict[str, Any]) -> FilesDriver:
        """Create the driver from the user's options (see the class docstring)."""
        return cls(options)

    def __repr__(self) -> str:
        return f"<FilesDriver root_path={self.root_path!r}>"

    # ------------------------------------------------------------------ helpers

    def _make_root(self) -> None:
        try:
            os.makedirs(self.root_path, exist_ok=True)
        except OSError as error:
            raise DiasporaException(
                f"Failed to create root directory: {self.root_path}: {error.strerror or error}"
            ) from None

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError("The files driver is closed; create a new driver to use it")

    def _topic_path(self, name: Any) -> str:
        check_topic_name(name)
        if is_temporary_name(name):
            raise DiasporaException(
                f"Invalid topic name {name!r}: names starting with {TEMPORARY_PREFIX!r} are "
                "reserved by the files backend for topics being created; choose another name"
            )
        return os.path.join(self.root_path, name)

    # ------------------------------------------------------------------ topics

    def create_topic(self, name: str, config: TopicConfig) -> None:
        """Create ``name`` with ``config.num_partitions`` partitions and its component files.

        The topic is built in a hidden directory of ``root_path`` then renamed into place: on
        failure nothing is left, and other processes never see a partly created topic.
        """
        self._check_open()
        path = self._topic_path(name)
        num_partitions = config.num_partitions
        if (
            not isinstance(num_partitions, int)
            or isinstance(num_partitions, bool)
            or num_partitions < 1
        ):
            raise DiasporaException(
                f"Invalid number of partitions {num_partitions!r} for topic {name!r}: "
                "it must be an integer of at least 1"
            )
        component_files = encode_components(config)
        if os.path.lexists(path):
            raise DiasporaException(f"Topic already exists: {name}")
        self._make_root()
        temporary = os.path.join(self.root_path, TEMPORARY_PREFIX + uuid.uuid4().hex)
        try:
            self._build_topic(temporary, num_partitions, component_files)
            try:
                os.rename(temporary, path)
            except OSError as error:
                if error.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.EISDIR, errno.ENOTDIR):
                    raise DiasporaException(f"Topic already exists: {name}") from None
                raise
            if self._durable:
                _fsync_directory(self.root_path)
        except OSError as error:
            raise DiasporaException(
                f"Failed to create topic directory structure for {name!r} in "
                f"{self.root_path}: {error.strerror or error}"
            ) from None
        finally:
            if os.path.lexists(temporary):
                shutil.rmtree(temporary, ignore_errors=True)

    def _build_topic(
        self, directory: str, num_partitions: int, component_files: dict[str, bytes]
    ) -> None:
        os.mkdir(directory)
        partitions = os.path.join(directory, PARTITIONS_DIR)
        os.mkdir(partitions)
        for partition in range(num_partitions):
            partition_dir = os.path.join(partitions, partition_dir_name(partition))
            os.mkdir(partition_dir)
            for file_name in (DATA_FILE, METADATA_FILE, INDEX_FILE):
                fd = os.open(
                    os.path.join(partition_dir, file_name),
                    os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                    FILE_MODE,
                )
                os.close(fd)
            if self._durable:
                _fsync_directory(partition_dir)
        for file_name, content in component_files.items():
            file_path = os.path.join(directory, file_name)
            with open(file_path, "wb") as stream:
                stream.write(content)
                if self._durable:
                    stream.flush()
                    os.fsync(stream.fileno())
        if self._durable:
            _fsync_directory(partitions)
            _fsync_directory(directory)

    def open_topic(self, name: str) -> FilesTopic:
        """Open ``name``: a new handle with its own file descriptors.

        Missing ``data``/``metadata``/``index`` files are created (mode 0644).
        """
        self._check_open()
        path = self._topic_path(name)
        if not os.path.isdir(path):
            raise DiasporaException(f"Topic directory does not exist: {path}")
        components = load_components(path)
        num_partitions = _count_partitions(path, name)
        opened: list[PartitionFiles] = []
        try:
            partitions_dir = os.path.join(path, PARTITIONS_DIR)
            for partition in range(num_partitions):
                opened.append(
                    PartitionFiles(
                        os.path.join(partitions_dir, partition_dir_name(partition)),
                        f"topic {name!r}, partition {partition}",
                        use_file_locking=self.config.use_file_locking,
                        flush_behavior=self.config.flush_behavior,
                        integrity=self.config.integrity,
                    )
                )
        except BaseException as error:
            for files in opened:
                files.close()
            if isinstance(error, OSError):
                raise DiasporaException(
                    f"Failed to load topic '{name}': {error.strerror or error}"
                ) from None
            raise
        acknowledgements = AcknowledgementStore(
            path,
            f"topic {name!r}",
            use_file_locking=self.config.use_file_locking,
            durable=self._durable,
        )
        config = TopicConfig(num_partitions=num_partitions, options={}, **components)
        return FilesTopic(name, config, path, opened, acknowledgements)

    def topic_exists(self, name: str) -> bool:
        """Whether ``root_path/name`` is a directory (as the C++ driver decides)."""
        self._check_open()
        return os.path.isdir(self._topic_path(name))

    def list_topics(self) -> dict[str, dict[str, Any]]:
        """Every directory of ``root_path`` with a ``partitions`` directory, described by
        ``name``, ``path``, ``num_partitions`` and the parseable component files."""
        self._check_open()
        topics: dict[str, dict[str, Any]] = {}
        try:
            entries = list(os.scandir(self.root_path))
        except FileNotFoundError:
            return topics
        except OSError as error:
            raise DiasporaException(
                f"Failed to list topics in {self.root_path}: {error.strerror or error}"
            ) from None
        for entry in entries:
            if is_temporary_name(entry.name):
                continue
            try:
                if not entry.is_dir():
                    continue
                partitions = os.path.join(entry.path, PARTITIONS_DIR)
                if not os.path.isdir(partitions):
                    continue
                count = sum(
                    1
                    for sub in os.scandir(partitions)
                    if sub.is_dir() and parse_partition_name(sub.name) is not None
                )
            except OSError:
                continue  # removed or unreadable while listing
            info: dict[str, Any] = {"name": entry.name, "path": entry.path, "num_partitions": count}
            info.update(peek_components(entry.path))
            topics[entry.name] = info
        return topics

    def close(self) -> None:
        """Mark the driver closed (topics already opened stay usable until closed)."""
        self._closed = True


def _count_partitions(path: str, name: str) -> int:
    """Number of partitions of the topic at ``path``: highest partition number + 1.

    Raises if there is no partition or if one below the highest is missing.
    """
    partitions = os.path.join(path, PARTITIONS_DIR)
    if not os.path.isdir(partitions):
        raise DiasporaException(f"Partitions directory not found for topic: {name}")
    try:
        numbers = [
            number
            for entry in os.scandir(partitions)
            if entry.is_dir() and (number := parse_partition_name(entry.name)) is not None
        ]
    except OSError as error:
        raise DiasporaException(
            f"Failed to load topic '{name}': cannot list {partitions}: {error.strerror}"
        ) from None
    if not numbers:
        raise DiasporaException(f"No valid partitions found for topic: {name}")
    highest = max(numbers)
    for partition in range(highest + 1):
        directory = os.path.join(partitions, partition_dir_name(partition))
        if not os.path.isdir(directory):
            raise DiasporaException(
                f"Missing partition directory {directory} of topic {name!r}: partitions are "
                f"numbered from 0 to {highest} without gaps; restore that directory (an empty "
                "one makes an empty partition) or recreate the topic"
            )
    return highest + 1


def _fsync_directory(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
