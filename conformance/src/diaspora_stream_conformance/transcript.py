"""The calls a suite test made on the public API, for its failure report.

While installed, the public methods of the API's classes are wrapped at class level (identity
and ``isinstance`` unchanged). A call is recorded only while a test is being recorded and only
when it comes straight from the test code (the suite's package or the test's own file), so the
API's and the backend's calls among themselves are not. Consecutive calls that differ only in
numbers are kept as one entry (``producer.push({'i': 0..9999}, <3 bytes>) x10000``); only the
last :data:`KEPT` entries are kept.
"""

from __future__ import annotations

import functools
import re
import reprlib
import sys
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diaspora_stream import api

from .hung_call import is_test_code, suite_package_directory

__all__ = ["KEPT", "Transcript", "installed", "recording"]

#: Entries a transcript keeps (the last ones).
KEPT = 40
#: The API classes whose public methods are recorded.
_CLASSES = (
    api.Driver,
    api.TopicHandle,
    api.Producer,
    api.Consumer,
    api.FutureUint,
    api.FutureFlushed,
    api.FutureEvent,
    api.Event,
    api.DataDescriptor,
)
_FUTURES = (api.FutureUint, api.FutureFlushed, api.FutureEvent)
_NUMBER = re.compile(r"-?\d+")
#: Methods that always return ``None``: their result is not shown.
_NO_RESULT = frozenset({"close", "acknowledge"})


class _ShortRepr(reprlib.Repr):
    """Short reprs: buffers by size, long strings and containers cut."""

    def __init__(self) -> None:
        super().__init__()
        self.maxstring = 40
        self.maxother = 60
        self.maxlist = self.maxtuple = self.maxdict = 4
        self.maxlevel = 3

    def repr1(self, x: Any, level: int) -> str:
        if isinstance(x, memoryview) and _released(x):
            return "<released memoryview>"
        if isinstance(x, (bytes, bytearray, memoryview)):
            return f"<{memoryview(x).nbytes} bytes>"
        if isinstance(x, _FUTURES):  # its state when returned says nothing: the class only
            return type(x).__name__
        if type(x).__name__ == "ndarray":
            return f"<ndarray {x.dtype} {tuple(x.shape)}>"
        return super().repr1(x, level)


_short = _ShortRepr().repr


def _released(view: memoryview) -> bool:
    try:
        view.nbytes  # noqa: B018 - raises on a released view
    except ValueError:
        return True
    return False


@dataclass
class _Entry:
    """Consecutive calls of one shape: the text around their numbers, first and last numbers."""

    parts: list[str]
    first: list[str]
    last: list[str]
    count: int = 1

    def render(self) -> str:
        pieces = [self.parts[0]]
        for index, part in enumerate(self.parts[1:]):
            low, high = self.first[index], self.last[index]
            pieces.append(low if low == high else f"{low}..{high}")
            pieces.append(part)
        text = "".join(pieces)
        return text if self.count == 1 else f"{text} x{self.count}"


@dataclass
class Transcript:
    """The calls recorded for one test, compressed, the last :data:`KEPT` of them."""

    entries: deque[_Entry] = field(default_factory=lambda: deque(maxlen=KEPT))
    total: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, text: str) -> None:
        """Record one call, described by ``text``."""
        numbers = _NUMBER.findall(text)
        parts = _NUMBER.split(text)
        with self._lock:
            self.total += 1
            last = self.entries[-1] if self.entries else None
            if last is not None and last.parts == parts:
                last.last = numbers
                last.count += 1
            else:
                self.entries.append(_Entry(parts, numbers, numbers))

    def lines(self) -> list[str]:
        """The kept entries, oldest first."""
        with self._lock:
            return [entry.render() for entry in self.entries]


class _Recorder:
    """The transcript being recorded, if any, and which files are test code."""

    def __init__(self) -> None:
        self.transcript: Transcript | None = None
        self._package = str(suite_package_directory())
        self._test_files: frozenset[str] = frozenset()
        self._is_test_code: dict[str, bool] = {}

    def start(self, test_files: Collection[str]) -> Transcript:
        self._test_files = frozenset(str(Path(name).resolve()) for name in test_files)
        self._is_test_code = {}
        self.transcript = Transcript()
        return self.transcript

    def stop(self) -> None:
        self.transcript = None

    def from_test_code(self, filename: str) -> bool:
        known = self._is_test_code.get(filename)
        if known is None:
            known = is_test_code(filename, self._package, self._test_files)
            self._is_test_code[filename] = known
        return known


_RECORDER = _Recorder()
_installed: dict[tuple[type, str], Callable[..., Any]] = {}


def _wrap(cls: type, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    receiver = cls.__name__[0].lower() + cls.__name__[1:]

    @functools.wraps(method)
    def recorded(*args: Any, **kwargs: Any) -> Any:
        transcript = _RECORDER.transcript
        if transcript is None or not _RECORDER.from_test_code(sys._getframe(1).f_code.co_filename):
            return method(*args, **kwargs)
        arguments = ", ".join(
            [_short(value) for value in args[1:]]
            + [f"{key}={_short(value)}" for key, value in kwargs.items()]
        )
        call = f"{receiver}.{name}({arguments})"
        try:
            result = method(*args, **kwargs)
        except BaseException as error:
            transcript.add(f"{call} raised {type(error).__name__}: {_short(str(error))}")
            raise
        transcript.add(call if name in _NO_RESULT else f"{call} → {_short(result)}")
        return result

    return recorded


def _install() -> None:
    if _installed:
        return
    for cls in _CLASSES:
        for name, method in list(vars(cls).items()):
            if name.startswith("_") or not callable(method) or isinstance(method, type):
                continue
            if isinstance(method, (staticmethod, classmethod, property)):
                continue
            try:
                setattr(cls, name, _wrap(cls, name, method))
            except (TypeError, AttributeError):  # a class implemented in C: not recorded
                continue
            _installed[(cls, name)] = method


def _uninstall() -> None:
    for (cls, name), method in _installed.items():
        setattr(cls, name, method)
    _installed.clear()


@contextmanager
def installed() -> Iterator[None]:
    """Wrap the API's public methods for the duration of the block (a run of the suite)."""
    _install()
    try:
        yield
    finally:
        _uninstall()


@contextmanager
def recording(test_files: Collection[str] = ()) -> Iterator[Transcript]:
    """Record the calls the test code makes during the block (methods must be installed)."""
    transcript = _RECORDER.start(test_files)
    try:
        yield transcript
    finally:
        _RECORDER.stop()
