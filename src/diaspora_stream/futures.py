"""Futures returned by ``push`` (:class:`FutureUint`), ``flush`` (:class:`FutureFlushed`) and
``pull`` (:class:`FutureEvent`).

Several futures can share one :class:`Completion` (all the events of a batch complete together);
a push future then only stores its position in the batch, which keeps ``push`` cheap.

``wait(timeout_ms=-1)`` (deviation D1): a negative timeout blocks until completion, ``0`` polls,
a positive value waits at most that many milliseconds. It returns ``None`` (``False`` for
:class:`FutureFlushed`) when the operation is not complete in time, and raises the operation's
error if it failed. ``completed`` is a property that can also be called, for old code.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from .exceptions import InvalidArgument

__all__ = ["Completion", "FutureUint", "FutureEvent", "FutureFlushed", "CompletedFlag"]

T = TypeVar("T")

_EVENT_CREATION = threading.Lock()


class Completion:
    """The shared outcome of an operation: a value or an error, set once.

    ``on_wait`` (optional) is called, once, by the first ``wait`` that finds the completion
    pending: producers use it to send a batch that a caller is waiting for.

    The ``threading.Event`` is only created by a ``wait`` that has to block: most completions
    (one per pushed event with a thread pool) are never waited on while pending.
    """

    __slots__ = ("_done", "_error", "_event", "_on_wait", "value")

    def __init__(self, on_wait: Callable[[], None] | None = None) -> None:
        self._done = False
        self._error: BaseException | None = None
        self._event: threading.Event | None = None
        self._on_wait = on_wait
        self.value: Any = None

    @classmethod
    def resolved(cls, value: Any) -> Completion:
        """A completion that already holds ``value`` (no synchronisation object needed)."""
        completion = cls.__new__(cls)
        completion._done = True
        completion._error = None
        completion._event = None
        completion._on_wait = None
        completion.value = value
        return completion

    @classmethod
    def failed(cls, error: BaseException) -> Completion:
        """A completion that already holds ``error``."""
        completion = cls.resolved(None)
        completion._error = error
        return completion

    @property
    def done(self) -> bool:
        """Whether the operation finished (successfully or not)."""
        return self._done

    def set_result(self, value: Any) -> None:
        """Complete successfully with ``value``."""
        self.value = value
        self._finish()

    def set_error(self, error: BaseException) -> None:
        """Complete with ``error``; every ``wait`` raises it."""
        self._error = error
        self._finish()

    def _finish(self) -> None:
        # Mark done *before* looking for a waiter's event: a waiter creates its event, then
        # checks _done, so one of the two sides always sees the other.
        self._done = True
        event = self._event
        if event is not None:
            event.set()

    def _waiter_event(self) -> threading.Event:
        with _EVENT_CREATION:
            if self._event is None:
                self._event = threading.Event()
            return self._event

    def wait(self, timeout_ms: Any) -> bool:
        """Wait per D1 semantics; return whether the operation is complete. Raises its error."""
        timeout = _timeout_seconds(timeout_ms)
        if not self._done:
            on_wait, self._on_wait = self._on_wait, None
            if on_wait is not None:
                on_wait()
            if timeout is None or timeout > 0:
                event = self._waiter_event()
                if not self._done:
                    event.wait(timeout)
            if not self._done:
                return False
        if self._error is not None:
            raise self._error
        return True


def _timeout_seconds(timeout_ms: Any) -> float | None:
    if type(timeout_ms) is int:  # the common case, checked first (a bool is not an int here)
        return None if timeout_ms < 0 else timeout_ms / 1000.0
    if (
        isinstance(timeout_ms, bool)
        or not isinstance(timeout_ms, (int, float))
        or timeout_ms != timeout_ms  # NaN would never expire
    ):
        raise InvalidArgument(
            f"timeout_ms must be a number of milliseconds (negative blocks), got {timeout_ms!r}"
        )
    if timeout_ms < 0:
        return None
    return timeout_ms / 1000.0


class CompletedFlag:
    """Value of ``future.completed``: a bool that can also be called (``future.completed()``)."""

    __slots__ = ("_value",)

    def __init__(self, value: bool) -> None:
        self._value = value

    def __bool__(self) -> bool:
        return self._value

    def __call__(self) -> bool:
        return self._value

    def __eq__(self, other: object) -> bool:
        return bool(self._value) == other

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return repr(self._value)


class _Future(Generic[T]):
    __slots__ = ("_completion",)

    def __init__(self, completion: Completion) -> None:
        self._completion = completion

    @property
    def completed(self) -> CompletedFlag:
        """Whether the operation finished (successfully or with an error)."""
        return CompletedFlag(self._completion.done)

    def __repr__(self) -> str:
        state = "completed" if self._completion.done else "pending"
        return f"<{type(self).__name__} {state}>"


class FutureUint(_Future[int]):
    """Future of the id of a pushed event (``Producer.push``)."""

    __slots__ = ("_position",)

    def __init__(self, completion: Completion, position: int = 0) -> None:
        self._completion = completion
        self._position = position

    def wait(self, timeout_ms: int = -1) -> int | None:
        """Return the event's id, or ``None`` if it is not known within ``timeout_ms``."""
        if not self._completion.wait(timeout_ms):
            return None
        return int(self._completion.value) + self._position


class FutureFlushed(_Future[bool]):
    """Future of a ``Producer.flush``."""

    __slots__ = ()

    def wait(self, timeout_ms: int = -1) -> bool:
        """Return ``True`` once everything pushed before the flush is stored, ``False`` on
        timeout; raise :class:`~diaspora_stream.exceptions.EventsNotStored` if any of those
        events could not be stored."""
        return self._completion.wait(timeout_ms)


class FutureEvent(_Future[Any]):
    """Future of a pulled event (``Consumer.pull``)."""

    __slots__ = ()

    def wait(self, timeout_ms: int = -1) -> Any:
        """Return the next :class:`~diaspora_stream.api.Event`, or ``None`` when no event is
        available within ``timeout_ms``."""
        completion = self._completion
        if completion._done and completion._error is None and type(timeout_ms) is int:
            return completion.value  # already there: what Completion.wait would conclude
        if not completion.wait(timeout_ms):
            return None
        return completion.value
