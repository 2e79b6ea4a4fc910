"""The error raised for partition files whose content contradicts the layout."""

from __future__ import annotations

from diaspora_stream.exceptions import Exception as DiasporaException

__all__ = ["CorruptedFileError", "corrupted"]

_ADVICE = (
    "the file was damaged or modified outside diaspora-stream; restore the partition from a "
    "copy, or truncate its index before that event to keep the events up to it"
)


class CorruptedFileError(DiasporaException):
    """A partition file is damaged: the message names the file and the byte offset."""

    def __init__(self, path: str, offset: int, detail: str, advice: str = _ADVICE) -> None:
        """``detail`` says what is wrong at byte ``offset`` of ``path``, ``advice`` what to do."""
        super().__init__(f"{detail} (file {path}, byte offset {offset}); {advice}")
        self.path = path
        self.offset = offset


def corrupted(path: str, offset: int, detail: str, advice: str = _ADVICE) -> CorruptedFileError:
    """The error for ``detail`` found at byte ``offset`` of ``path``."""
    return CorruptedFileError(path, offset, detail, advice)
