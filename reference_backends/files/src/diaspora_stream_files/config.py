"""Options of the files driver (reference-api.md §5.1, with a safer locking default)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from diaspora_stream.backend.options import Option, parse_options
from diaspora_stream.exceptions import Exception as DiasporaException

from .partition import FLUSH_BEHAVIORS

__all__ = ["FilesConfig", "OPTIONS"]

#: Options accepted by the files driver.
OPTIONS: dict[str, Option] = {
    "root_path": Option(
        str, "./diaspora_data", "directory holding all topics (created if missing)"
    ),
    "use_file_locking": Option(
        bool,
        True,
        "flock the partition files around each append; needed when several processes append "
        "to one partition (false only for single-writer setups)",
    ),
    "flush_behavior": Option(
        str,
        "buffered",
        "immediate: fsync after every append; on_flush: fsync on flush; buffered: never fsync",
    ),
    "integrity": Option(
        bool,
        False,
        "keep a CRC-32 of each event's metadata and data in a side file of each partition "
        "(ignored by the C++ driver) and verify every read against it",
    ),
}


@dataclass(frozen=True)
class FilesConfig:
    """The checked options of a files driver."""

    root_path: str
    use_file_locking: bool
    flush_behavior: str
    integrity: bool = False

    @classmethod
    def from_options(cls, options: Any) -> FilesConfig:
        """Check ``options`` (unknown names, types, values) and fill in defaults."""
        values = parse_options(options, OPTIONS, "files driver")
        flush_behavior = values["flush_behavior"]
        if flush_behavior not in FLUSH_BEHAVIORS:
            raise DiasporaException(
                f"Invalid flush_behavior: {flush_behavior}. Valid values are: "
                + ", ".join(FLUSH_BEHAVIORS)
            )
        if not values["root_path"]:
            raise DiasporaException(
                "Option 'root_path' of the files driver is empty; give the directory that "
                "holds (or will hold) the topics"
            )
        return cls(
            values["root_path"], values["use_file_locking"], flush_behavior, values["integrity"]
        )
