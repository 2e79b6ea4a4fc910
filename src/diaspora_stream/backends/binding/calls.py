"""Calling into the foreign module: its exceptions become ours, its futures complete ours."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ...exceptions import Exception as DiasporaException
from ...futures import Completion, _timeout_seconds

__all__ = ["ErrorMap", "ForeignCompletion", "foreign_timeout"]


class ErrorMap:
    """Turns the foreign module's ``Exception`` into ours (same message, original as cause).

    Other exceptions (``ValueError`` for a bad schema, ``TypeError`` for a bad argument, errors
    of the user's selectors and allocators) pass through unchanged, as the binding raises them.
    """

    __slots__ = ("foreign",)

    def __init__(self, foreign: type[BaseException]) -> None:
        self.foreign = foreign

    def translate(self, error: BaseException) -> BaseException:
        """Our exception for ``error`` (``error`` itself when it is not the foreign one)."""
        if isinstance(error, self.foreign) and not isinstance(error, DiasporaException):
            translated = DiasporaException(str(error))
            translated.__cause__ = error
            return translated
        return error

    def call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)`` with the foreign exception translated."""
        try:
            return function(*args, **kwargs)
        except self.foreign as error:
            raise self.translate(error) from error


def foreign_timeout(timeout_ms: Any) -> int | None:
    """The binding's ``timeout_ms`` for our D1 timeout, or ``None`` for "poll".

    The binding blocks for any ``timeout_ms <= 0`` and takes only integers: a negative timeout
    becomes ``-1``, a positive one is rounded up to whole milliseconds, and ``0`` (our poll)
    has no binding equivalent: the caller checks ``completed`` instead.
    """
    timeout = _timeout_seconds(timeout_ms)
    if timeout is None:
        return -1
    if timeout == 0:
        return None
    return max(1, math.ceil(timeout_ms))


def completed(foreign_future: Any) -> bool:
    """The foreign future's ``completed`` (a property of push/flush futures, a method of pull
    futures in the binding)."""
    flag = foreign_future.completed
    return bool(flag() if callable(flag) else flag)


class ForeignCompletion(Completion):
    """A :class:`~diaspora_stream.futures.Completion` over a foreign future.

    Subclasses say with :meth:`outcome` what the foreign ``wait`` result means. Each ``wait``
    asks the foreign future again (its errors, and its quirks when waited on twice, show
    through); a value once obtained is kept. Subclasses may re-type errors with :meth:`retype`.
    """

    __slots__ = ("_errors", "_foreign")

    def __init__(self, foreign: Any, errors: ErrorMap) -> None:
        # Completion.__init__ is not called: only _done and value are used (wait and done are
        # this class's own).
        self._done = False
        self.value = None
        self._foreign = foreign
        self._errors = errors

    def outcome(self, result: Any) -> tuple[bool, Any]:
        """``(complete, value)`` for what the foreign ``wait`` returned: ``complete`` False
        means "not within the timeout" (the foreign ``None``/``False``)."""
        raise NotImplementedError

    @property
    def done(self) -> bool:
        return self._done or completed(self._foreign)

    def retype(self, error: BaseException) -> BaseException:
        """The error ``wait`` raises for ``error`` (already translated to ours)."""
        return error

    def wait(self, timeout_ms: Any) -> bool:
        foreign_ms = foreign_timeout(timeout_ms)
        if self._done:
            return True
        if foreign_ms is None:
            if not completed(self._foreign):
                return False
            foreign_ms = -1
        try:
            result = self._foreign.wait(timeout_ms=foreign_ms)
        except BaseException as error:  # translated and re-raised
            raise self.retype(self._errors.translate(error)) from error
        complete, value = self.outcome(result)
        if complete:
            self.value = value
            self._done = True
        return complete
