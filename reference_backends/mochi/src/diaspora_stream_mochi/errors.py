"""Exception types of the mochi backend (all are ``diaspora_stream`` exceptions)."""

from __future__ import annotations

from diaspora_stream.exceptions import Exception as DiasporaException
from diaspora_stream.exceptions import PartitionCompleted, Unreachable

__all__ = [
    "AccessDeniedError",
    "CompletedPartitionError",
    "ConfigurationError",
    "FrameTooLargeError",
    "ProtocolError",
    "RemoteError",
    "ServerUnavailableError",
]


class ConfigurationError(DiasporaException):
    """A server configuration file, group file or driver option is wrong."""


class ProtocolError(DiasporaException):
    """A frame on the wire is malformed (bad length, bad header, unexpected message)."""


class FrameTooLargeError(ProtocolError):
    """A frame announces a header or payload longer than the receiving side accepts (found
    from its length prefix, before anything of that length is allocated or read)."""

    def __init__(self, part: str, size: int, limit: int) -> None:
        super().__init__(
            f"frame {part} of {size} bytes announced, more than the {limit} bytes accepted"
        )
        #: ``"header"`` or ``"payload"``.
        self.part = part
        self.size = size
        self.limit = limit


class RemoteError(DiasporaException):
    """The server answered a request with an error (its message says what was wrong)."""


class CompletedPartitionError(RemoteError, PartitionCompleted):
    """The server refused an append: the partition is marked complete."""


class ServerUnavailableError(Unreachable):
    """A mochi server could not be reached, or stopped answering, within the timeout."""


class AccessDeniedError(DiasporaException):
    """A mochi server refused the connection: the client lacks the service's access token."""
