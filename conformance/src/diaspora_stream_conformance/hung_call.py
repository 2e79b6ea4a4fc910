"""Where a test is stuck: the call of the test code that did not return, and what it called.

Given the innermost frame of an interrupted thread, :func:`describe_hung_call` finds the
innermost frame that belongs to the test code (the suite's own package, or the file of the test
being run) and names the call it is making there (the exact expression on Python 3.11+, the
source line otherwise), then the chain of calls below it, in the backend and the API.
"""

from __future__ import annotations

import linecache
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

__all__ = [
    "RUNTIME_MODULES",
    "HungCall",
    "describe_hung_call",
    "is_test_code",
    "suite_package_directory",
]

#: Most entries of the chain of calls below the test code that a description shows.
CHAIN_LENGTH = 8
#: Longest source text of the hung call that a description shows.
SOURCE_LENGTH = 160


def suite_package_directory() -> Path:
    """The directory of this package: frames there are the suite's test code."""
    return Path(__file__).resolve().parent


@dataclass(frozen=True)
class HungCall:
    """The call of the test code that did not return."""

    #: ``file.py:line`` of the call in the test code (or of the innermost frame).
    location: str
    #: The call's source text (``consumer.pull().wait(50)``).
    source: str
    #: The function of the test code making the call.
    function: str
    #: The calls below it, outermost first (``FutureEvent.wait (futures.py:217)``).
    chain: tuple[str, ...]

    def describe(self, limit_s: float) -> str:
        """``the call `x` (file:line, in f) did not return within N s`` and the chain below."""
        text = (
            f"the call `{self.source}` ({self.location}, in {self.function}) "
            f"did not return within {limit_s:g} s"
        )
        if self.chain:
            text += "\ncalls below it, outermost first: " + " → ".join(self.chain)
        return text


def describe_hung_call(frame: FrameType | None, test_files: Collection[str] = ()) -> HungCall:
    """Describe the call that ``frame`` (the innermost frame of a stuck thread) is part of.

    Frames of this package and of ``test_files`` (absolute paths) are test code; when no frame
    is, the innermost frame is described.
    """
    frames: list[FrameType] = []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    if not frames:
        return HungCall("unknown", "unknown", "unknown", ())
    package = str(suite_package_directory())
    own = {str(Path(name).resolve()) for name in test_files}
    position = next(
        (
            index
            for index, candidate in enumerate(frames)
            if is_test_code(candidate.f_code.co_filename, package, own)
        ),
        0,
    )
    caller = frames[position]
    below = [_frame_label(candidate) for candidate in reversed(frames[:position])]
    if len(below) > CHAIN_LENGTH:
        below = ["…", *below[-CHAIN_LENGTH:]]
    return HungCall(_location(caller), _call_source(caller), _function_name(caller), tuple(below))


#: Modules of this package that run tests rather than being tests.
RUNTIME_MODULES = frozenset(
    {"plugin.py", "time_bound.py", "hung_call.py", "transcript.py", "failure_details.py"}
)


def is_test_code(filename: str, package: str, own: Collection[str]) -> bool:
    """Whether code of ``filename`` is test code: in ``package`` (a directory, resolved) but
    not one of the :data:`RUNTIME_MODULES`, or one of ``own`` (resolved paths)."""
    if filename.startswith("<"):
        return False
    resolved = str(Path(filename).resolve())
    return resolved in own or (
        resolved.startswith(package) and Path(resolved).name not in RUNTIME_MODULES
    )


def _function_name(frame: FrameType) -> str:
    return getattr(frame.f_code, "co_qualname", frame.f_code.co_name)


def _location(frame: FrameType) -> str:
    return f"{_short_path(frame.f_code.co_filename)}:{frame.f_lineno}"


def _frame_label(frame: FrameType) -> str:
    return f"{_function_name(frame)} ({_location(frame)})"


def _short_path(filename: str) -> str:
    """The file's name with its directory (``diaspora_stream/futures.py``): enough to find it,
    without the machine's paths."""
    parts = Path(filename).parts
    return "/".join(parts[-2:]) if len(parts) >= 2 else filename


def _call_source(frame: FrameType) -> str:
    """The source of the expression ``frame`` is evaluating (the call), or its line."""
    filename = frame.f_code.co_filename
    positions = getattr(frame.f_code, "co_positions", None)
    if positions is not None and frame.f_lasti >= 0:
        try:
            start, end, column, end_column = list(positions())[frame.f_lasti // 2]
        except (IndexError, ValueError):
            start = None
        if start is not None and end is not None and column is not None and end_column:
            lines = [linecache.getline(filename, number) for number in range(start, end + 1)]
            if all(lines):
                lines[-1] = lines[-1][:end_column]
                lines[0] = lines[0][column:]
                return _shorten(" ".join(line.strip() for line in lines))
    return _shorten(linecache.getline(filename, frame.f_lineno).strip() or "unknown")


def _shorten(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"([(\[{]) ", r"\1", text)
    text = re.sub(r",? ([)\]}])", r"\1", text)
    return text if len(text) <= SOURCE_LENGTH else text[: SOURCE_LENGTH - 1] + "…"
