"""The behaviour, bad-input and capability catalogues against the reference backends.

* ``memory`` runs all three classes; ``files`` with its defaults (in a temporary directory)
  runs the whole suite in ``reference_backends/files/tests/test_conformance.py``, not twice;
* two more ``files`` configurations run the capability checks only, so that both directions of
  ``durable_flush`` (``flush_behavior="on_flush"``) and of ``multi_process_producers``
  (``use_file_locking=false``) are exercised;
* ``memory-without-acknowledgements`` (the memory backend declaring ``acknowledgements``
  absent) runs the capability checks, so that the "absent acknowledgements" path is exercised;
* plain tests check that the absent-capability checks really run (not skip) on ``memory``, and
  that the catalogue lists every test with exactly one level.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from diaspora_stream.api import (
    Capabilities,
    Driver,
    LogTopic,
    UnsupportedError,
    register_driver,
)
from diaspora_stream.backends.memory import MemoryDriver, MemoryTopic
from diaspora_stream_conformance.backend import BackendUnderTest
from diaspora_stream_conformance.bad_input import BadInputTests
from diaspora_stream_conformance.base import ConformanceBase
from diaspora_stream_conformance.behaviours import BehaviourTests
from diaspora_stream_conformance.capability_checks import CapabilityTests
from diaspora_stream_conformance.catalogue import (
    catalogue,
    markdown_table,
    shadowed_tests,
    suite_classes,
)
from diaspora_stream_conformance.levels import LEVELS
from diaspora_stream_conformance.rules import RULE_FAMILIES

CLASSES = (*RULE_FAMILIES, BadInputTests, CapabilityTests)


def _backend_fixture(backend: BackendUnderTest) -> Iterator[BackendUnderTest]:
    """Yield ``backend`` and remove its shared temporary directory afterwards (if any)."""
    yield backend
    if "{tmp}" in str(backend.options):
        root = backend.resolved_options().get("root_path")
        if root:
            shutil.rmtree(root, ignore_errors=True)


class TestMemoryCatalogue(BehaviourTests, BadInputTests, CapabilityTests):
    """Every catalogue test on the in-memory backend (persistent topics declared absent)."""

    @pytest.fixture(scope="session")
    @classmethod
    def diaspora_backend(cls) -> Iterator[BackendUnderTest]:
        """The ``memory`` backend."""
        yield from _backend_fixture(BackendUnderTest("memory"))


class TestFilesDurableCapabilities(CapabilityTests):
    """Capability checks on the files backend with ``flush_behavior="on_flush"``
    (``durable_flush`` declared)."""

    @pytest.fixture(scope="session")
    @classmethod
    def diaspora_backend(cls) -> Iterator[BackendUnderTest]:
        """The ``files`` backend that fsyncs on flush."""
        yield from _backend_fixture(
            BackendUnderTest("files", {"root_path": "{tmp}", "flush_behavior": "on_flush"})
        )


class TestFilesSingleWriterCapabilities(CapabilityTests):
    """Capability checks on the files backend without file locking
    (``multi_process_producers`` declared absent, topics persistent)."""

    @pytest.fixture(scope="session")
    @classmethod
    def diaspora_backend(cls) -> Iterator[BackendUnderTest]:
        """The ``files`` backend without flock."""
        yield from _backend_fixture(
            BackendUnderTest("files", {"root_path": "{tmp}", "use_file_locking": False})
        )


# ------------------------------------------- a backend declaring acknowledgements absent


class _MemoryTopicWithoutAcknowledgements(MemoryTopic):
    """A memory topic whose acknowledgements are those of the LogTopic base: unsupported."""

    def store_acknowledgement(self, consumer_name: str, partition: int, event_id: int) -> None:
        LogTopic.store_acknowledgement(self, consumer_name, partition, event_id)

    def load_acknowledgements(self, consumer_name: str) -> dict[int, int]:
        return LogTopic.load_acknowledgements(self, consumer_name)


class MemoryDriverWithoutAcknowledgements(MemoryDriver):
    """The memory backend declaring (and implementing) no acknowledgements."""

    capabilities = Capabilities(acknowledgements=False, partial_data_reads=True)

    def open_topic(self, name: str) -> LogTopic:
        topic = super().open_topic(name)
        assert isinstance(topic, MemoryTopic)
        return _MemoryTopicWithoutAcknowledgements(name, topic._store)

    @classmethod
    def create(cls, options: dict[str, Any]) -> MemoryDriverWithoutAcknowledgements:
        return cls()


register_driver("memory-without-acknowledgements", MemoryDriverWithoutAcknowledgements)


class TestMemoryWithoutAcknowledgementsCapabilities(CapabilityTests):
    """Capability checks on a memory backend that declares acknowledgements absent."""

    @pytest.fixture(scope="session")
    @classmethod
    def diaspora_backend(cls) -> Iterator[BackendUnderTest]:
        """The memory backend without acknowledgements."""
        yield from _backend_fixture(BackendUnderTest("memory-without-acknowledgements"))

    def test_multi_process_producers_absent(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Skipped: this backend is registered in this process only, a child cannot create it."""
        pytest.skip("backend registered in-process only: child processes cannot create it")


# ------------------------------------------------- the absent paths really run on memory

# Module-level backends: ConformanceBase caches capabilities by id(backend), so backends used
# directly must outlive the run (a freed object's id may be reused by another backend).
MEMORY = BackendUnderTest("memory")
MEMORY_WITHOUT_ACKNOWLEDGEMENTS = BackendUnderTest("memory-without-acknowledgements")

#: Absent-capability checks that must run (not skip) on the memory backend.
MEMORY_ABSENT_CHECKS = (
    "test_persistent_topics_absent",
    "test_persistent_acknowledgements_absent",
    "test_durable_flush_absent",
    "test_multi_process_producers_absent",
)


def test_memory_declares_the_absent_capabilities() -> None:
    """The memory backend declares absent what MEMORY_ABSENT_CHECKS exercise."""
    capabilities = MEMORY.capabilities
    assert not capabilities.persistent_topics
    assert not capabilities.persistent_acknowledgements
    assert not capabilities.durable_flush
    assert not capabilities.multi_process_producers
    assert capabilities.acknowledgements


@pytest.mark.parametrize("name", MEMORY_ABSENT_CHECKS)
def test_absent_capability_check_runs_on_memory(name: str) -> None:
    """Calling the absent-capability check directly on memory completes without skipping."""
    backend = MEMORY
    driver = backend.driver()
    try:
        getattr(CapabilityTests(), name)(driver=driver, diaspora_backend=backend)
    except pytest.skip.Exception as skipped:  # pragma: no cover - the failure this guards
        pytest.fail(f"{name} skipped on memory: {skipped}")
    finally:
        driver.close()


def test_acknowledgements_absent_check_runs() -> None:
    """The absent-acknowledgements check runs (not skips) on the backend declaring it absent."""
    backend = MEMORY_WITHOUT_ACKNOWLEDGEMENTS
    driver = backend.driver()
    try:
        try:
            CapabilityTests().test_acknowledgements_absent(driver=driver, diaspora_backend=backend)
        except pytest.skip.Exception as skipped:  # pragma: no cover
            pytest.fail(f"skipped: {skipped}")
        topic_name = backend.create_topic(driver)
        topic = driver.open_topic(topic_name)
        topic.producer().push({"i": 0}).wait(1000)
        event = topic.consumer("probe").pull().wait(1000)
        assert event is not None
        with pytest.raises(UnsupportedError):
            event.acknowledge()
    finally:
        driver.close()


# ------------------------------------------------------------------ the catalogue itself


def _test_names(cls: type) -> list[str]:
    return [name for name in vars(cls) if name.startswith("test")]


def test_catalogue_lists_every_test_once_with_one_level() -> None:
    """Every test of the three classes is listed once, with exactly one level and a docstring."""
    entries = catalogue(CLASSES)
    listed = [(entry.class_name, entry.test_name) for entry in entries]
    expected = [(cls.__name__, name) for cls in CLASSES for name in _test_names(cls)]
    assert listed == expected
    for entry in entries:
        assert len(entry.levels) == 1, f"{entry.behaviour_id} has levels {entry.levels}"
        assert entry.level in LEVELS
        assert entry.description, f"{entry.behaviour_id} has no docstring"
        assert len(entry.description) <= 100, f"{entry.behaviour_id}: docstring too long"
    counts = {level: sum(1 for entry in entries if entry.level == level) for level in LEVELS}
    assert counts["must"] and counts["should"], counts


def test_catalogue_entries_carry_capabilities_and_parameters() -> None:
    """Capabilities and parameter ids of the tests appear in the catalogue."""
    by_id = {entry.behaviour_id: entry for entry in catalogue(CLASSES)}
    assert by_id["CapabilityTests::test_persistent_topics"].capabilities == ("persistent_topics",)
    assert by_id["CapabilityTests::test_persistent_topics"].level == "must"
    assert by_id["AcknowledgementRules::test_acknowledge_then_resume_by_name"].capabilities == (
        "acknowledgements",
    )
    assert by_id["BadInputTests::test_bad_topic_name"].parameters == (
        "empty",
        "slash",
        "dotdot",
        "nul",
    )


def test_no_test_name_is_shadowed() -> None:
    """No two suite classes define a test of the same name (one would hide the other)."""
    assert shadowed_tests() == {}
    assert shadowed_tests(CLASSES) == {}


def test_suite_classes_include_every_catalogue() -> None:
    """suite_classes() lists every rule family, the bad-input and capability classes, and only
    ConformanceBase subclasses."""
    classes = suite_classes()
    for cls in CLASSES:
        assert cls in classes
    assert all(issubclass(cls, ConformanceBase) for cls in classes)


def test_markdown_table() -> None:
    """The Markdown table has a header, one row per test and the level counts."""
    entries = catalogue(CLASSES)
    table = markdown_table(entries)
    lines = table.splitlines()
    assert lines[0] == "| Behaviour | Level | Requires | Description |"
    rows = [line for line in lines[2:] if line.startswith("| `")]
    assert len(rows) == len(entries)
    assert f"{len(entries)} tests:" in table


def test_catalogue_module_entry_point() -> None:
    """``python -m diaspora_stream_conformance.catalogue`` prints the Markdown table."""
    result = _run_module([])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("| Behaviour | Level | Requires | Description |")
    assert "`TopicRules::test_created_topic_exists`" in result.stdout
    as_json = _run_module(["--format", "json", "--level", "should"])
    assert as_json.returncode == 0, as_json.stderr
    assert '"level": "should"' in as_json.stdout and '"level": "must"' not in as_json.stdout


def _run_module(arguments: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "diaspora_stream_conformance.catalogue", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
