"""The ``binding`` backend over the double of ``pydiaspora_stream_api``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from diaspora_stream.api import (
    ByteArrayAllocator,
    Driver,
    Event,
    FutureUint,
    InvalidMetadata,
    UnsupportedError,
    Validator,
)
from diaspora_stream.api import Exception as DiasporaException


def bridged(backend: str = "memory", module: str = "pydiaspora_stream_api", **extra: Any) -> Driver:
    return Driver(backend="binding", options={"module": module, "backend": backend, **extra})


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({}, "option 'backend'"),
        ({"backend": "memory", "modul": "x"}, "unknown option(s) 'modul'"),
        ({"backend": "memory", "capabilities": {"acks": True}}, "unknown capability 'acks'"),
        ({"backend": "memory", "capabilities": {"durable_flush": "yes"}}, "true or false"),
        ({"backend": "memory", "options": []}, "must be a JSON object"),
        ({"backend": "memory", "module": "no_such_binding_module"}, "cannot import module"),
        ({"backend": "memory", "module": "json"}, "not a Diaspora Stream binding"),
    ],
)
def test_bad_options_say_what_is_wrong(options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(DiasporaException, match="binding driver") as raised:
        Driver(backend="binding", options=options)
    assert fragment in str(raised.value)


def test_foreign_errors_become_ours_and_the_driver_names_what_is_behind_it() -> None:
    import pydiaspora_stream_api as binding

    with pytest.raises(DiasporaException) as raised:
        bridged(backend="no-such-driver")
    assert not isinstance(raised.value, binding.Exception)
    assert isinstance(raised.value.__cause__, binding.Exception)
    driver = bridged(options={}, capabilities={"acknowledgements": True})
    assert driver.provenance == {
        "module": "pydiaspora_stream_api",
        "module_version": None,
        "module_file": binding.__file__,
        "backend": "memory",
        "backend_options": {},
    }
    assert driver.capabilities.acknowledgements and not driver.capabilities.persistent_topics
    with pytest.raises(DiasporaException, match="Could not find topic"):
        driver.open_topic("missing")


def _topic(driver: Driver, partitions: int = 1, **components: Any) -> Any:
    driver.create_topic("t", options={"num_partitions": partitions}, **components)
    return driver.open_topic("t")


def _push(topic: Any, events: list[tuple[Any, bytes]], partition: Any = None) -> list[int]:
    producer = topic.producer()
    futures = [producer.push(m, d, partition=partition) for m, d in events]
    assert producer.flush().wait(5000) is True
    return [future.wait(5000) for future in futures]


def test_declared_acknowledgements_reach_the_foreign_driver() -> None:
    topic = _topic(bridged(capabilities={"acknowledgements": True}), partitions=2)
    _push(topic, [({"i": i}, b"") for i in range(4)])
    events = list(topic.consumer("c").events(200))
    assert sorted((e.partition_index, e.event_id) for e in events) == [
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
    ]
    for event in events:
        if event.event_id == 0:
            event.acknowledge()
    again = sorted((e.partition_index, e.event_id) for e in topic.consumer("c").events(200))
    assert again == [(0, 1), (1, 1)]


def test_bridged_events_read_their_fields_when_asked_and_keep_them() -> None:
    """Fields of a bridged event are read from the foreign event on first access, then kept
    and assignable, as on any Event."""
    topic = _topic(bridged(capabilities={"acknowledgements": True}))
    _push(topic, [({"i": 0}, b"ab"), ({"i": 1}, b"c")])
    first = topic.consumer("c").pull().wait(5000)
    assert isinstance(first, Event) and "id=0" in repr(first)
    assert (first.event_id, first.partition_index, first.partition) == (0, 0, {})
    assert first.metadata == {"i": 0} and first.metadata is first.metadata
    assert [bytes(b) for b in first.data] == [b"ab"] and first.data is first.data
    first.metadata, first.partition = {"j": 1}, {"p": 2}
    assert (first.metadata, first.partition) == ({"j": 1}, {"p": 2})
    first.acknowledge()
    resumed = topic.consumer("c").pull().wait(5000)
    assert (resumed.event_id, resumed.metadata) == (1, {"i": 1})


def test_a_foreign_error_reading_a_field_becomes_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    import pydiaspora_stream_api as binding

    topic = _topic(bridged())
    _push(topic, [({"i": 0}, b"")])
    event = topic.consumer("c").pull().wait(5000)

    def fail(self: Any) -> Any:
        raise binding.Exception("cannot convert the metadata")

    monkeypatch.setattr(binding.Event, "metadata", property(fail))
    with pytest.raises(DiasporaException, match="cannot convert the metadata") as raised:
        _ = event.metadata
    assert not isinstance(raised.value, binding.Exception)
    assert isinstance(raised.value.__cause__, binding.Exception)


def test_absent_acknowledgements_raise_unsupported() -> None:
    topic = _topic(bridged())
    _push(topic, [({}, b"")])
    event = topic.consumer("c").pull().wait(5000)
    with pytest.raises(UnsupportedError, match="declared absent"):
        event.acknowledge()


def test_selections_strings_and_no_data() -> None:
    topic = _topic(bridged(), partitions=3)
    _push(topic, [('"just a string"', b"0123456789"), ({"k": [1, None]}, b"abcdef")], partition=1)

    def select(metadata: Any, descriptor: Any) -> Any:
        view = descriptor.make_sub_view(offset=1, size=4)
        return view.make_stride_view(offset=0, num_blocks=2, block_size=1, gap_size=1)

    selected = list(
        topic.consumer("s", data_selector=select, data_allocator=ByteArrayAllocator).events(200)
    )
    assert [(e.metadata, bytes(e.data[0]), e.partition_index) for e in selected] == [
        ("just a string", b"13", 1),
        ({"k": [1, None]}, b"bd", 1),
    ]
    owned = list(topic.consumer("o", data_selector=select).events(200))
    assert [bytes(e.data[0]) for e in owned] == [b"13", b"bd"]
    # The double raises if the bridge touches event.data of an event pulled without an
    # allocator (the C++ binding dereferences null there).
    none = list(topic.consumer("n", data_allocator=None).events(200))
    assert [e.data for e in none] == [[], []]


def test_a_validator_rejection_is_invalid_metadata() -> None:
    schema = {"type": "object", "required": ["ok"]}
    topic = _topic(bridged(), validator=Validator.from_metadata(type="schema", schema=schema))
    producer = topic.producer()
    rejected, accepted = producer.push({"no": 1}), producer.push({"ok": 1})
    producer.flush()
    with pytest.raises(InvalidMetadata):
        rejected.wait(5000)
    assert accepted.wait(5000) is not None


def test_push_and_pull_futures_keep_their_public_face() -> None:
    """A push future is a FutureUint (made lazily over the foreign one); a pull that finds
    nothing gives a pending future that delivers an event pushed later, and a pending future
    dropped after a timeout loses nothing."""
    topic = _topic(bridged())
    consumer = topic.consumer("c")
    dropped = consumer.pull()
    assert dropped.wait(0) is None and not dropped.completed
    del dropped
    pending = consumer.pull()
    producer = topic.producer(batch_size=8)
    first, second = producer.push({"i": 0}, b"a"), producer.push({"i": 1}, b"bc")
    assert isinstance(first, FutureUint) and repr(first).startswith("<FutureUint ")
    assert producer.flush().wait(5000)
    assert first.completed and repr(first) == "<FutureUint completed>"
    assert (first.wait(0), second.wait(), second.wait(0)) == (0, 1, 1)
    event = pending.wait(5000)
    assert event is not None and (event.event_id, event.metadata) == (0, {"i": 0})
    assert bytes(event.data[0]) == b"a" and pending.wait(0) is event
    following = consumer.pull()
    assert following.completed and following.wait(0).metadata == {"i": 1}


def test_closed_objects_raise() -> None:
    driver = bridged()
    topic = _topic(driver)
    producer = topic.producer()
    producer.close()
    with pytest.raises(DiasporaException, match="closed"):
        producer.push({})
    driver.close()
    with pytest.raises(DiasporaException, match="closed"):
        driver.topic_exists("t")


def _suite(
    report: Path, module: str, backend: str, capabilities: dict[str, bool], *selection: str
) -> Any:
    options = {"module": module, "backend": backend, "capabilities": capabilities}
    return subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
            "--pyargs", "diaspora_stream_conformance",
            "--diaspora-backend", "binding",
            "--diaspora-backend-options", json.dumps(options),
            "--diaspora-profile", "ci", "--diaspora-report", str(report), *selection,
        ],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_the_suite_sees_the_foreign_defects_and_the_report_names_the_foreign_module(
    tmp_path: Path, double_on_path: str
) -> None:
    """No-op acknowledgements and ignored targets (C++ files driver, §12.19) fail their rules
    through the bridge; the report says which module and driver were tested."""
    selection = "test_acknowledgements or test_targets_restrict_partitions"
    run = _suite(
        tmp_path, "defective_binding", "memory", {"acknowledgements": True}, "-k", selection
    )
    assert run.returncode == 1, run.stdout + run.stderr
    report = json.loads((tmp_path / "conformance.json").read_text())
    failed = {r["behaviour_id"] for r in report["results"] if r["outcome"] == "failed"}
    assert {
        "CapabilityTests::test_acknowledgements",
        "ConsumingRules::test_targets_restrict_partitions",
    } <= failed, failed
    assert report["backend_provenance"]["module"] == "defective_binding"
    assert report["backend_provenance"]["backend"] == "memory"
    markdown = (tmp_path / "conformance.md").read_text()
    assert "Behind the backend: module `defective_binding` (no version), driver `memory`" in (
        markdown
    )
    assert "behind binding: module `defective_binding`" in run.stdout


def test_targets_give_each_event_its_partition() -> None:
    topic = _topic(bridged(), partitions=3)
    producer = topic.producer()
    for i in range(9):
        producer.push({"i": i}, partition=i % 3)
    assert producer.flush().wait(5000)
    one = [
        (e.partition_index, e.metadata["i"]) for e in topic.consumer("a", targets=[1]).events(100)
    ]
    assert one == [(1, 1), (1, 4), (1, 7)]
    two = {
        (e.partition_index, e.metadata["i"])
        for e in topic.consumer("b", targets=[2, 0]).events(100)
    }
    assert two == {(i % 3, i) for i in range(9) if i % 3 != 1}
