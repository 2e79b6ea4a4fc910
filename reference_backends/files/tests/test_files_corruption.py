"""Damaged partition files: typed errors naming file and offset, bounded memory, and no wrong
bytes without an error (issue 15, §4).

A small topic is written, then each case damages one file of a copy (truncations, one bit
flipped at every byte, huge sizes and offsets in the index, a directory instead of the file)
and a fresh driver reads everything back.
"""

from __future__ import annotations

import shutil
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from diaspora_stream.exceptions import Exception as DiasporaException
from files_damage import PARTITION, flip, make_directory, put, read_back, truncate, write_topic

EVENTS = [({"i": i, "pad": "x" * (3 * i)}, bytes(range(i * 7, i * 7 + 5 * i))) for i in range(5)]
FILES = ("index", "metadata", "data", "checksums")
#: Most memory a read of this tiny topic may take, whatever the damage.
MEMORY_BOUND = 1 << 20
_LAST_DATA_SIZE = slice(32 * (len(EVENTS) - 1) + 24, 32 * len(EVENTS))


@dataclass(frozen=True)
class Case:
    """One way of damaging one file."""

    name: str
    file: str
    damage: Callable[[Path], None]
    #: Byte offsets of the file touched (to tell which field of the index was hit).
    offsets: range = range(0)


def _cases(pristine: Path, files: tuple[str, ...]) -> Iterator[Case]:
    for name in files:
        size = (pristine / PARTITION / name).stat().st_size
        for cut in sorted({0, 1, size // 3, size // 2, size - 9, size - 1}):
            if 0 <= cut < size:
                yield Case(f"{name} truncated to {cut}", name, truncate(cut), range(cut, size))
        for offset in range(size):
            yield Case(
                f"{name} bit flip at {offset}", name, flip(offset), range(offset, offset + 1)
            )
        yield Case(f"{name} is a directory", name, make_directory)
    last = 32 * (len(EVENTS) - 1)
    for field, what in enumerate(("metadata offset", "metadata size", "data offset", "data size")):
        for value in (2**31, 2**63, 2**64 - 1):
            offset = last + 8 * field
            yield Case(
                f"index: last {what} = {value}",
                "index",
                put(offset, value),
                range(offset, offset + 8),
            )
            yield Case(
                f"index: first {what} = {value}",
                "index",
                put(8 * field, value),
                range(8 * field, 8 * field + 8),
            )


@dataclass
class Outcome:
    """What reading a damaged copy gave."""

    error: BaseException | None
    events: list[tuple[object, bytes]]
    peak: int


def _outcome(case: Case, pristine: Path, work: Path, integrity: bool) -> Outcome:
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(pristine, work)
    case.damage(work / PARTITION / case.file)
    events: list[tuple[object, bytes]] = []
    tracemalloc.start()
    try:
        events = read_back(work, integrity, len(EVENTS))
        error = None
    except BaseException as caught:  # noqa: BLE001 - every escape is judged below
        error = caught
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return Outcome(error, events, peak)


def _expected() -> list[tuple[object, bytes]]:
    return [(metadata, data) for metadata, data in EVENTS]


def _problems(case: Case, outcome: Outcome, integrity: bool) -> list[str]:
    """What is wrong with ``outcome`` (empty when the damage was handled)."""
    problems = []
    error = outcome.error
    if error is not None:
        if not isinstance(error, DiasporaException):
            problems.append(f"untyped {type(error).__name__}: {error}")
        elif str(PARTITION) not in str(error):
            problems.append(f"the message does not name the file: {error}")
        elif case.offsets and "offset" not in str(error):
            problems.append(f"the message does not name the offset: {error}")
    if outcome.peak > MEMORY_BOUND:
        problems.append(f"{outcome.peak} bytes allocated for a topic of a few hundred bytes")
    wrong = outcome.events != _expected()[: len(outcome.events)]
    if wrong:
        # Without checksums, flipped metadata or data bytes cannot be seen; nor can a smaller
        # size in the last index record (no record after it to disagree).
        undetectable = not integrity and (
            case.file in ("metadata", "data")
            or (
                case.file == "index"
                and set(case.offsets) <= set(range(_LAST_DATA_SIZE.start, _LAST_DATA_SIZE.stop))
            )
        )
        if not undetectable:
            problems.append(f"wrong bytes returned without an error: {outcome.events}")
    return problems


@pytest.mark.parametrize("integrity", [False, True], ids=["default", "integrity"])
def test_damaged_files_give_typed_errors_bounded_memory_and_no_silent_wrong_bytes(
    tmp_path: Path, integrity: bool
) -> None:
    pristine = tmp_path / "pristine"
    write_topic(pristine, integrity, EVENTS)
    assert read_back(pristine, integrity, len(EVENTS)) == _expected()
    files = FILES if integrity else FILES[:3]
    failures = []
    silent = 0
    cases = list(_cases(pristine, files))
    for case in cases:
        outcome = _outcome(case, pristine, tmp_path / "work", integrity)
        failures += [f"{case.name}: {problem}" for problem in _problems(case, outcome, integrity)]
        silent += outcome.error is None and outcome.events != _expected()[: len(outcome.events)]
    print(f"{len(cases)} damaged copies read, {silent} gave wrong bytes without an error")
    assert not failures, f"{len(failures)} of {len(cases)} cases:\n" + "\n".join(failures[:40])
