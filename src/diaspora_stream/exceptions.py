"""Exception types of the Diaspora Stream API.

``Exception`` mirrors the C++ binding's exception class: it is named ``Exception`` and derives from
:class:`RuntimeError`, so ``except RuntimeError`` and ``except diaspora_stream.api.Exception``
both catch it. Every error this package raises on purpose is an instance of it, except where the
C++ reference raises a built-in type that tests rely on (``ValueError`` for an invalid JSON Schema
document, ``TypeError`` for arguments of the wrong kind).
"""

from __future__ import annotations

import builtins

__all__ = [
    "Exception",
    "ClientException",
    "InvalidMetadata",
    "InvalidArgument",
    "UnsupportedError",
    "ClosedError",
    "EventsNotStored",
    "Unreachable",
    "StopEventProcessor",
    "PartitionCompleted",
]


class Exception(builtins.RuntimeError):  # noqa: A001 - the reference's public name
    """Base class of every error raised by the Diaspora Stream API."""


ClientException = Exception


class InvalidMetadata(Exception):
    """An event's metadata was rejected (by a validator, or because it is not JSON)."""


class InvalidArgument(Exception, builtins.TypeError):
    """An argument has the wrong type; also a :class:`TypeError` for code that expects one."""


class UnsupportedError(Exception):
    """The backend declared that it does not support this operation (see ``Capabilities``)."""


class ClosedError(Exception):
    """The producer, consumer, topic or driver was used after it was closed."""


class EventsNotStored(Exception):
    """A flush covered events that the backend failed to store.

    ``failed`` is how many events pushed before the flush were not stored; ``first_cause`` the
    error of the first of them (also this exception's ``__cause__``). Each push future of a
    lost event raises its own error; the events must be pushed again once the cause is fixed.
    """

    def __init__(self, failed: int, first_cause: BaseException) -> None:
        super().__init__(
            f"{failed} event(s) pushed before this flush were not stored (first cause: "
            f"{first_cause}); their push futures raise their own errors: push them again "
            "once the cause is fixed"
        )
        self.failed = failed
        self.first_cause = first_cause
        self.__cause__ = first_cause


class Unreachable(Exception):
    """The backend's service could not be reached within the documented time."""


class PartitionCompleted(Exception):
    """An event was pushed to a partition already marked complete (``mark_complete``)."""


class StopEventProcessor(builtins.Exception):
    """Raise from an event processor given to ``Consumer.process`` to stop processing."""
