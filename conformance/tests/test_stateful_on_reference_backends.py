"""The model-based stateful test on the reference backends, and proof that it catches bugs.

``TestStatefulMemory`` and ``TestStatefulFiles`` run :class:`StatefulTests` as a backend's own
tests would. The meta-tests run the state machine on deliberately broken in-memory backends
and check that it fails on each, with a short shrunk program.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import pytest
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from diaspora_stream.api import AppendRecord, LogTopic, StoredRecord, register_driver
from diaspora_stream.backends.memory import MemoryDriver, MemoryTopic
from diaspora_stream_conformance import BackendUnderTest
from diaspora_stream_conformance.model import ModelMismatch
from diaspora_stream_conformance.stateful import DiasporaStateMachine, StatefulTests


class TestStatefulMemory(StatefulTests):
    """The stateful test on the built-in ``memory`` backend."""

    @pytest.fixture
    def diaspora_backend(self) -> BackendUnderTest:
        return BackendUnderTest("memory")


class TestStatefulFiles(StatefulTests):
    """The stateful test on the ``files`` reference backend (a fresh directory per program)."""

    @pytest.fixture
    def diaspora_backend(self) -> BackendUnderTest:
        return BackendUnderTest("files", {"root_path": "{tmp}"})


# --------------------------------------------------------------------------- broken backends


class DropsLastOfBatchTopic(MemoryTopic):
    """Loses the last record of every append of more than one record."""

    def append(self, partition: int, records: Sequence[AppendRecord]) -> int:
        return super().append(partition, records[:-1] if len(records) > 1 else records)


class ReversedReadTopic(MemoryTopic):
    """Returns the records of each read in reverse order."""

    def read(self, partition: int, start: int, max_count: int) -> Sequence[StoredRecord]:
        return list(reversed(super().read(partition, start, max_count)))


class ForgetsAcknowledgementsTopic(MemoryTopic):
    """Stores acknowledgements but never loads them (consumers restart from the beginning)."""

    def load_acknowledgements(self, consumer_name: str) -> dict[int, int]:
        return {}


class _BrokenDriver(MemoryDriver):
    topic_class: ClassVar[type[MemoryTopic]] = MemoryTopic

    def open_topic(self, name: str) -> LogTopic:
        opened = super().open_topic(name)
        assert isinstance(opened, MemoryTopic)
        return self.topic_class(name, opened._store)


def _broken_driver(topic_class: type[MemoryTopic]) -> type[MemoryDriver]:
    return type(f"{topic_class.__name__}Driver", (_BrokenDriver,), {"topic_class": topic_class})


BROKEN_BACKENDS = {
    "broken-drops-last-of-batch": DropsLastOfBatchTopic,
    "broken-reversed-read": ReversedReadTopic,
    "broken-forgets-acknowledgements": ForgetsAcknowledgementsTopic,
}
for _name, _topic_class in BROKEN_BACKENDS.items():
    register_driver(_name, _broken_driver(_topic_class))


class _QuickMachine(DiasporaStateMachine):
    """Small events and short waits: shrinking a failure runs the machine thousands of times,
    and the broken backends lose events (so pulls time out)."""

    DELIVERY_TIMEOUT_MS = 5
    CONSUMER_NAMES = st.just(["a", "b", "c"])
    PULL_TIMEOUTS_MS = (0, 1)
    METADATA = st.dictionaries(st.sampled_from("ab"), st.integers(0, 3), max_size=2)
    DATA = st.lists(st.binary(max_size=3), max_size=2)


#: Longest shrunk program accepted, in lines of the printed script.
MAX_SHRUNK_LINES = 40


def _model_mismatches(error: BaseException) -> list[ModelMismatch]:
    """The ModelMismatch errors in ``error`` (itself, or in a Hypothesis exception group)."""
    if isinstance(error, ModelMismatch):
        return [error]
    return [
        found for inner in getattr(error, "exceptions", ()) for found in _model_mismatches(inner)
    ]


#: Beginnings of the lines Hypothesis adds to a failure's notes (the rest is the script).
_HYPOTHESIS_LINES = ("state", "Draw ", "Failing test case", "Explanation", " ", "You can ")


@pytest.mark.parametrize("backend_name", sorted(BROKEN_BACKENDS))
def test_state_machine_catches_broken_backend(backend_name: str) -> None:
    """The state machine fails on each broken backend, with a short replayable program."""
    backend = BackendUnderTest(backend_name)
    with pytest.raises(Exception) as caught:
        run_state_machine_as_test(
            lambda: _QuickMachine(backend),  # type: ignore[arg-type]
            settings=settings(
                max_examples=100,
                stateful_step_count=15,
                derandomize=True,
                database=None,
                deadline=None,
                print_blob=False,
                report_multiple_bugs=False,
                phases=[Phase.generate, Phase.shrink],
            ),
        )
    mismatches = _model_mismatches(caught.value)
    assert mismatches, f"the machine failed with {caught.value!r}, not a ModelMismatch"
    notes = [str(line) for line in getattr(mismatches[0], "__notes__", [])]
    script = [line for line in notes if not line.startswith(_HYPOTHESIS_LINES)]
    assert 0 < len(script) <= MAX_SHRUNK_LINES, "\n".join(notes)
