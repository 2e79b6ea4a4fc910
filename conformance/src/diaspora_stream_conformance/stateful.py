"""Model-based stateful tests: random programs run on the backend and on a model, compared.

:class:`DiasporaStateMachine` is a Hypothesis ``RuleBasedStateMachine`` that drives the backend
under test through the public API, and the model of :mod:`diaspora_stream_conformance.model`
side by side. Its rules create topics (1 to 4 partitions, with or without a validator that
rejects some metadata), open more handles on a topic, close and reopen handles, restart the
driver (backends whose topics and acknowledgements persist), create producers (batch sizes 1,
3 and adaptive, some with a thread pool), push events (random JSON metadata, sometimes as JSON
text; 0 to 4 data segments of several buffer types; maybe a partition), wait on push futures,
flush and close producers, create consumers (names from a small pool, so they repeat; maybe
targets; no, full, empty or random stacked data views; default, bytearray, split or no data
allocator), pull, acknowledge, and re-create consumers with the same name.

Every observation is checked against the model: push ids (dense per partition, unique, in each
producer's push order, predicted exactly when one producer writes a partition), validator
rejections, the next event of each consumer (round robin over its partitions, each in id order,
starting after its name's acknowledged position: no loss, no duplicate; nothing only when no
event is known to be stored), the metadata round trip and the exact selected bytes. At the end of
each program every topic is read once more and must hold exactly the pushed events.

Each step notes the API calls it made, with assertions of what the model expects, so a shrunk
failure prints as a short Python script that replays it.

:class:`StatefulTests` runs the machine as a conformance test. Its class attributes
(``MAX_TOPICS``, ``DELIVERY_TIMEOUT_MS``, ``STRICT_ROUND_ROBIN``, ``METADATA``, …) can be tuned
by subclassing :class:`DiasporaStateMachine` and setting ``StatefulTests.state_machine``.
"""

from __future__ import annotations

import array
import contextlib
import functools
import itertools
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, NoReturn

import pytest
from hypothesis import note, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from diaspora_stream.api import (
    AdaptiveBatchSize,
    ByteArrayAllocator,
    Consumer,
    Driver,
    Event,
    FullDataSelector,
    FutureUint,
    InvalidMetadata,
    Producer,
    TopicHandle,
    Validator,
)
from diaspora_stream.api import Exception as DiasporaException

from .backend import BackendUnderTest, substitute_placeholders
from .base import ConformanceBase
from .helpers import wait_within
from .levels import MUST
from .model import (
    SCHEMA_RULES,
    ConsumerModel,
    HandleModel,
    ModelEvent,
    ModelMismatch,
    PullCandidate,
    SchemaRule,
    TopicModel,
    json_equal,
    select_bytes,
)
from .plugin import profile_name
from .profiles import STATEFUL_STEPS
from .strategies import (
    RecipeSelector,
    ViewRecipe,
    consumer_names,
    event_data,
    json_metadata,
    topic_names,
    view_recipes,
)

__all__ = [
    "FINAL_VIEWS",
    "DiasporaStateMachine",
    "NoDataSelector",
    "SplitAllocator",
    "StatefulTests",
]


class NoDataSelector:
    """A data selector that selects no data (returns ``None``)."""

    def __call__(self, metadata: Any, descriptor: Any) -> None:
        """Select nothing."""
        return None

    def __repr__(self) -> str:
        return "NoDataSelector()"


class SplitAllocator:
    """A data allocator returning two buffers: half of the selection, then the rest plus
    ``slack`` spare bytes (which must stay zero)."""

    def __init__(self, slack: int = 3) -> None:
        """Allocate ``slack`` spare bytes at the end."""
        self.slack = slack

    def __call__(self, metadata: Any, descriptor: Any) -> list[bytearray]:
        """Two buffers for ``descriptor.size`` bytes (plus the slack)."""
        first = descriptor.size // 2
        return [bytearray(first), bytearray(descriptor.size - first + self.slack)]

    def __repr__(self) -> str:
        return f"SplitAllocator({self.slack})"


_SELECTIONS = ("default", "views", "full", "views", "nothing")  # views twice
_ALLOCATORS = ("default", "bytearray", "split", "none")
_ADAPTIVE = "AdaptiveBatchSize"  # drawn as a name: reads better than 2**64 - 1
_BATCH_SIZES = (1, 3, 3, _ADAPTIVE)  # 3 twice: batches of several events matter
_CONSUMER_BATCH_SIZES = (_ADAPTIVE, 1, 2)
_PRODUCER_THREADS = (0, 0, 2)
_SLACK = 3
_RECIPES = st.lists(view_recipes(), min_size=1, max_size=3)
_PARTITION_COUNTS = st.integers(1, 4)
_VALIDATORS = st.sampled_from((None, *SCHEMA_RULES))
_TOPIC_PREFIXES = topic_names(12)
_BOOLEANS = st.booleans()
_PULL_COUNTS = st.sampled_from((1, 2, 50))
#: The views every topic is read through once more at the end of a program (several pieces
#: per event, composed views): strided, unstructured, and a strided view of a sub view.
FINAL_VIEWS = [
    ViewRecipe((("strided", (1, 2, 9, 1)),)),
    ViewRecipe((("unstructured", (0, 2, 3, 5, 8, 13)),)),
    ViewRecipe((("sub", (1, 40)), ("strided", (0, 3, 9, 2)), ("unstructured", (0, 1, 2, 4)))),
]
#: Backends that lost an event in this process (see ``LOST_DELIVERY_TIMEOUT_MS``).
_LOSSY_BACKENDS: set[str] = set()


# Strategies are built once: building them is costly compared to drawing from them.
@functools.cache
def _indices(count: int) -> st.SearchStrategy[int]:
    return st.integers(0, count - 1)


@functools.cache
def _hints(count: int) -> st.SearchStrategy[int | None]:
    return st.none() | st.integers(0, count + 1)


@functools.cache
def _targets(count: int) -> st.SearchStrategy[list[int] | None]:
    return st.none() | st.lists(_indices(count), min_size=1, max_size=count, unique=True).map(
        sorted
    )


@functools.cache
def _push_lists(
    metadata: st.SearchStrategy[Any],
    data: st.SearchStrategy[list[bytes]],
    hints: st.SearchStrategy[int | None],
    least: int,
    most: int,
) -> st.SearchStrategy[list[tuple[Any, list[bytes], int | None, bool]]]:
    return st.lists(st.tuples(metadata, data, hints, _BOOLEANS), min_size=least, max_size=most)


@functools.cache
def _choices(values: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from(values)


def _batch_size(drawn: int | str) -> int:
    return AdaptiveBatchSize if drawn == _ADAPTIVE else int(drawn)


def _buffer(segment: bytes, number: int) -> tuple[Any, str]:
    """``segment`` as one of several buffer types (chosen by ``number``), and its source."""
    kind = number % 4
    text = _bytes_text(segment)
    if kind == 1:
        return bytearray(segment), f"bytearray({text})"
    if kind == 2:
        return memoryview(segment), f"memoryview({text})"
    if kind == 3 and segment and len(segment) % 2 == 0:
        # An array of 2-byte items holding these bytes (len() is half the size in bytes).
        return (
            array.array("H", memoryview(segment).cast("H")),
            f"array.array('H', memoryview({text}).cast('H'))",
        )
    return segment, text


def _bytes_text(value: bytes) -> str:
    """Python source for ``value``, compact for long repeated patterns."""
    if len(value) <= 48:
        return repr(value)
    for period in range(1, 9):
        pattern = value[:period]
        if (pattern * (len(value) // period + 1))[: len(value)] == value:
            return f"({pattern!r} * {len(value) // period + 1})[:{len(value)}]"
    return f"{value[:24]!r} + ... ({len(value)} bytes)"


# The machine's *structure* (which topics, handles, producers, consumers and pushes exist) is a
# function of Hypothesis' choices only; the backend objects and what the backend revealed are
# filled in by the steps' actions. Draws and preconditions only look at the structure, so that
# Hypothesis replays a program identically even though the backend is not deterministic.


@dataclass(eq=False)
class _Topic:
    model: TopicModel
    handles: list[_Handle] = field(default_factory=list)


@dataclass(eq=False)
class _Handle:
    var: str
    topic: _Topic
    model: HandleModel
    handle: TopicHandle | None = None


@dataclass(eq=False)
class _Producer:
    var: str
    number: int
    handle: _Handle
    batch_size: int
    threads: int  # 0: the default pool; N > 0: a pool of N threads (pushes give partitions)
    producer: Producer | None = None


@dataclass(eq=False)
class _Push:
    var: str
    number: int
    producer: _Producer
    future: FutureUint | None = None
    event: ModelEvent | None = None  # None: rejected by the validator


@dataclass(eq=False)
class _ConsumerSpec:
    """What a consumer is created with (a re-created consumer reuses it)."""

    name: str
    arguments: str
    kwargs: dict[str, Any]
    selection: str
    selector: RecipeSelector | None
    allocator: str


@dataclass(eq=False)
class _Consumer:
    var: str
    handle: _Handle
    spec: _ConsumerSpec
    pulls: int = 0  # pull rules run on it (structure; not what they delivered)
    consumer: Consumer | None = None
    model: ConsumerModel | None = None
    last: tuple[str, Event, int, int] | None = None


class DiasporaStateMachine(RuleBasedStateMachine):
    """Drives a backend and the model side by side (see the module docstring).

    Create it with the backend under test: ``DiasporaStateMachine(BackendUnderTest("files",
    {"root_path": "{tmp}"}))``; each instance uses a fresh driver.

    The first failure of a step is kept and raised by :meth:`teardown`; the remaining steps
    still draw their data but no longer act, so that Hypothesis sees the same program whatever
    the backend's timing.
    """

    #: Most topics, topic handles per topic, producers and consumers alive at once.
    MAX_TOPICS: ClassVar[int] = 2
    MAX_HANDLES_PER_TOPIC: ClassVar[int] = 2
    MAX_PRODUCERS: ClassVar[int] = 4
    MAX_CONSUMERS: ClassVar[int] = 3
    #: How long a pull may take to deliver an event the model knows is stored; once a backend
    #: lost an event in this process, :attr:`LOST_DELIVERY_TIMEOUT_MS` (Hypothesis then runs
    #: many similar programs to shrink the failure, and each would wait that long).
    DELIVERY_TIMEOUT_MS: ClassVar[int] = 2000
    LOST_DELIVERY_TIMEOUT_MS: ClassVar[int] = 200
    #: How long a push future or a flush may take to complete.
    PUSH_TIMEOUT_MS: ClassVar[int] = 30000
    #: Check the round-robin order of delivery across partitions (reference-api §5.8), not
    #: only the order within each partition.
    STRICT_ROUND_ROBIN: ClassVar[bool] = True
    #: Rules that reshape the program (new topics and handles, closing producers, reading a
    #: whole topic) are enabled one step in this many.
    OCCASIONAL_EVERY: ClassVar[int] = 3
    #: Timeouts of ``pull().wait(timeout_ms)`` (one is drawn per pull).
    PULL_TIMEOUTS_MS: ClassVar[tuple[int, ...]] = (0, 1, 10)
    #: The pool of consumer names (drawn once per program; consumers take names from it).
    CONSUMER_NAMES: ClassVar[st.SearchStrategy[list[str]]] = st.lists(
        consumer_names(), min_size=3, max_size=3, unique=True
    )
    #: Metadata and data of the pushed events, and how many one ``push`` step pushes.
    METADATA: ClassVar[st.SearchStrategy[Any]] = json_metadata()
    DATA: ClassVar[st.SearchStrategy[list[bytes]]] = event_data()
    MAX_EVENTS_PER_PUSH: ClassVar[int] = 6

    def __init__(self, backend: BackendUnderTest) -> None:
        """Open a fresh driver of ``backend``."""
        super().__init__()
        self.backend = backend
        self.acknowledgements = ConformanceBase.backend_capabilities(backend).acknowledgements
        self.topics: list[_Topic] = []
        self.producers: list[_Producer] = []
        self.consumers: list[_Consumer] = []
        self.pushes: list[_Push] = []
        self.names: list[str] = []
        self.failure: Exception | None = None
        self._numbers = itertools.count()
        self._pulls = itertools.count()
        self._steps = 0
        note("import array, tempfile")
        note("from diaspora_stream.api import *")
        note("from diaspora_stream_conformance import BackendUnderTest")
        note("from diaspora_stream_conformance.backend import substitute_placeholders")
        note("from diaspora_stream_conformance.stateful import NoDataSelector, SplitAllocator")
        note("from diaspora_stream_conformance.strategies import RecipeSelector, ViewRecipe")
        note(f"backend = {backend!r}")
        # backend.driver(fresh=True), keeping the options (to restart the driver) and the
        # directory (removed by teardown).
        self._directory = tempfile.mkdtemp(prefix="diaspora-stateful-")
        note("options = substitute_placeholders(backend.options, tempfile.mkdtemp())")
        note("driver = Driver(backend=backend.name, options=options)")
        self._driver_options = substitute_placeholders(backend.options, self._directory)
        self.driver = Driver(backend=backend.name, options=self._driver_options)
        capabilities = self.driver.capabilities
        self.restartable = capabilities.persistent_topics and (
            capabilities.persistent_acknowledgements or not capabilities.acknowledgements
        )

    # ----------------------------------------------------------------- plumbing

    @contextlib.contextmanager
    def _acting(self) -> Iterator[None]:
        """Run a step's actions, keeping the first failure for :meth:`teardown`."""
        try:
            yield
        except HypothesisException:
            raise
        except Exception as error:  # noqa: BLE001 - raised again by teardown
            self.failure = error

    @property
    def failed(self) -> bool:
        """Whether a step failed (later steps only draw)."""
        return self.failure is not None

    def _fail(self, message: str) -> NoReturn:
        raise ModelMismatch(message)

    def _number(self) -> int:
        return next(self._numbers)

    def _delivery_timeout_ms(self) -> int:
        if self.backend.name in _LOSSY_BACKENDS:
            return min(self.DELIVERY_TIMEOUT_MS, self.LOST_DELIVERY_TIMEOUT_MS)
        return self.DELIVERY_TIMEOUT_MS

    def _handles(self) -> list[_Handle]:
        return [handle for topic in self.topics for handle in topic.handles]

    def _occasionally(self) -> bool:
        """True one step in :attr:`OCCASIONAL_EVERY`: gates the rules that reshape the program
        (a deterministic precondition, so that Hypothesis can replay programs)."""
        return self._steps % self.OCCASIONAL_EVERY == 0

    def _draw_handle(self, data: st.DataObject) -> _Handle:
        handles = self._handles()
        return handles[data.draw(_indices(len(handles)), label="handle index")]

    def _draw_producer(self, data: st.DataObject) -> _Producer:
        index = data.draw(_indices(len(self.producers)), label="producer index")
        return self.producers[index]

    def _draw_consumer(self, data: st.DataObject) -> _Consumer:
        index = data.draw(_indices(len(self.consumers)), label="consumer index")
        return self.consumers[index]

    # ----------------------------------------------------------------- actions

    def _resolve(self, push: _Push, value: Any, why: str = "") -> None:
        event = push.event
        assert event is not None
        log = push.producer.handle.topic.model.partitions[event.partition]
        if event.event_id is not None:
            note(f"assert {push.var}.wait() == {event.event_id}{why}")
        else:
            lowest, highest = log.id_bounds(event)
            if lowest == highest:
                note(f"assert {push.var}.wait() == {lowest}{why}")
            else:
                note(
                    f"assert {lowest} <= {push.var}.wait() <= {highest}{why}  # "
                    f"{value!r}; several producers write partition {event.partition}"
                )
        log.resolve(event, value)

    def _wait_push(self, push: _Push, why: str = "") -> None:
        """Wait for a push future and check its outcome against the model."""
        assert push.future is not None
        if push.event is None:
            try:
                value = push.future.wait(self.PUSH_TIMEOUT_MS)
            except InvalidMetadata:
                note(f"{push.var}.wait()  # raises InvalidMetadata")
                return
            except DiasporaException as error:
                self._fail(
                    f"{push.var}.wait() raised {type(error).__name__} ({error}); a validator "
                    "rejection must raise InvalidMetadata"
                )
            self._fail(
                f"{push.var}.wait() returned {value!r}: the topic's validator rejects this "
                "metadata, the push future must raise InvalidMetadata"
            )
        value = push.future.wait(self.PUSH_TIMEOUT_MS)
        if value is None:
            self._fail(f"{push.var}.wait() did not complete in {self.PUSH_TIMEOUT_MS} ms")
        self._resolve(push, value, why)

    def _wait_unresolved(self, pushes: list[_Push], why: str = "") -> None:
        for push in pushes:
            if push.event is not None and push.event.event_id is None:
                self._wait_push(push, why)

    def _settle(self, topic: _Topic, partition: int) -> None:
        """Wait for every unresolved push of ``partition``: all its ids become known."""
        unresolved = topic.model.partitions[partition].unresolved
        pushes = [push for push in self.pushes if push.event in unresolved]
        self._wait_unresolved(pushes, f"  # settles partition {partition}")

    def _close_producer(self, producer: _Producer) -> None:
        assert producer.producer is not None
        note(f"{producer.var}.close()")
        producer.producer.close()
        self._wait_unresolved([push for push in self.pushes if push.producer is producer])

    def _close_consumer(self, consumer: _Consumer) -> None:
        assert consumer.consumer is not None
        note(f"{consumer.var}.close()")
        consumer.consumer.close()

    def _open_handle(self, handle: _Handle) -> None:
        model = handle.topic.model
        note(f"{handle.var} = driver.open_topic({model.name!r})")
        handle.handle = self.driver.open_topic(model.name)
        count = len(handle.handle.partitions)
        if count != model.num_partitions:
            self._fail(
                f"{handle.var} has {count} partition(s), created with {model.num_partitions}"
            )

    def _new_handle(self, topic: _Topic) -> _Handle:
        handle = _Handle(f"topic_{self._number()}", topic, HandleModel(topic.model))
        topic.handles.append(handle)
        return handle

    def _create_topic(self, data: st.DataObject) -> None:
        partitions = data.draw(_PARTITION_COUNTS, label="num_partitions")
        schema_rule = data.draw(_VALIDATORS, label="validator")
        prefix = data.draw(_TOPIC_PREFIXES, label="topic name prefix")
        topic = _Topic(TopicModel(self.backend.topic_name(prefix), partitions, schema_rule))
        self.topics.append(topic)
        handle = self._new_handle(topic)
        if not self.failed:
            with self._acting():
                self._act_create_topic(topic.model, schema_rule)
                self._open_handle(handle)

    def _act_create_topic(self, model: TopicModel, schema_rule: SchemaRule | None) -> None:
        options = dict(self.backend.topic_options)
        options["num_partitions"] = model.num_partitions
        components: dict[str, Any] = {}
        text = ""
        if schema_rule is not None:
            components["validator"] = Validator.from_metadata(
                type="schema", schema=schema_rule.schema
            )
            text = (
                f", validator=Validator.from_metadata(type='schema', schema={schema_rule.schema!r})"
            )
        note(f"driver.create_topic({model.name!r}, options={options!r}{text})")
        self.driver.create_topic(model.name, options=options, **components)
        note(
            f"assert driver.topic_exists({model.name!r}) and {model.name!r} in driver.list_topics()"
        )
        if not self.driver.topic_exists(model.name):
            self._fail(f"driver.topic_exists({model.name!r}) is False after create_topic")
        if model.name not in self.driver.list_topics():
            self._fail(f"driver.list_topics() does not list {model.name!r} after create_topic")

    def _create_producer(self, data: st.DataObject) -> None:
        handle = self._draw_handle(data)
        batch_size = _batch_size(data.draw(_choices(_BATCH_SIZES), label="batch_size"))
        threads = data.draw(_choices(_PRODUCER_THREADS), label="thread pool size")
        producer = self._new_producer(handle, batch_size, threads)
        self.producers.append(producer)
        if not self.failed:
            with self._acting():
                self._act_create_producer(producer)

    def _new_producer(self, handle: _Handle, batch_size: int, threads: int) -> _Producer:
        number = self._number()
        return _Producer(f"producer_{number}", number, handle, batch_size, threads)

    def _act_create_producer(self, producer: _Producer) -> None:
        handle, threads = producer.handle, producer.threads
        assert handle.handle is not None
        pool_text = f", thread_pool=driver.make_thread_pool({threads})" if threads else ""
        size = _ADAPTIVE if producer.batch_size == AdaptiveBatchSize else producer.batch_size
        note(
            f"{producer.var} = {handle.var}.producer({producer.var!r}, "
            f"batch_size={size}{pool_text})"
        )
        pool = self.driver.make_thread_pool(threads) if threads else None
        producer.producer = handle.handle.producer(
            producer.var, batch_size=producer.batch_size, thread_pool=pool
        )

    def _replace_clients(
        self, handles: dict[int, _Handle]
    ) -> tuple[list[tuple[_Producer, _Producer]], list[tuple[_Consumer, _Consumer]]]:
        """Move the producers and consumers of the handles ``handles`` maps (by ``id``) to the
        new handles it gives (structure only): new records replace them in place."""
        producers = []
        for index, old in enumerate(self.producers):
            if id(old.handle) in handles:
                new = self._new_producer(handles[id(old.handle)], old.batch_size, old.threads)
                self.producers[index] = new
                producers.append((old, new))
        consumers = []
        for index, old_consumer in enumerate(self.consumers):
            if id(old_consumer.handle) in handles:
                handle = handles[id(old_consumer.handle)]
                new_consumer = _Consumer(
                    f"consumer_{self._number()}", handle, old_consumer.spec, old_consumer.pulls
                )
                self.consumers[index] = new_consumer
                consumers.append((old_consumer, new_consumer))
        return producers, consumers

    def _act_close_clients(
        self,
        producers: list[tuple[_Producer, _Producer]],
        consumers: list[tuple[_Consumer, _Consumer]],
    ) -> None:
        for old, _ in producers:
            self._close_producer(old)
        for old_consumer, _ in consumers:
            self._close_consumer(old_consumer)

    def _act_create_clients(
        self,
        producers: list[tuple[_Producer, _Producer]],
        consumers: list[tuple[_Consumer, _Consumer]],
    ) -> None:
        for _, new in producers:
            self._act_create_producer(new)
        for _, new_consumer in consumers:
            self._act_create_consumer(new_consumer)

    def _push(
        self,
        producer: _Producer,
        metadata: Any,
        segments: list[bytes],
        hint: int | None,
        as_text: bool,
    ) -> None:
        number = self._number()
        push = _Push(f"f_{number}", number, producer)
        self.pushes.append(push)
        if self.failed:
            return
        with self._acting():
            self._act_push(push, metadata, segments, hint, as_text)

    def _act_push(
        self, push: _Push, metadata: Any, segments: list[bytes], hint: int | None, as_text: bool
    ) -> None:
        producer = push.producer
        assert producer.producer is not None
        handle = producer.handle
        topic = handle.topic.model
        argument: Any = metadata
        if as_text or isinstance(metadata, str):
            # A str is JSON text (a JSON string must be pushed as '"text"').
            argument = json.dumps(metadata, ensure_ascii=False)
        # Vary the buffer types (deviation D2) without drawing: bytes, bytearray, memoryview,
        # an array of 2-byte items (its size in bytes is not its len()); a list or a tuple of
        # segments.
        buffers: list[Any] = []
        texts: list[str] = []
        for index, segment in enumerate(segments):
            buffer, text = _buffer(segment, push.number + index)
            buffers.append(buffer)
            texts.append(text)
        data_arg: Any = buffers
        if not segments:
            data_text = ""
        elif len(segments) == 1:
            data_arg, data_text = buffers[0], ", " + texts[0]
        elif push.number % 2:
            data_arg, data_text = tuple(buffers), ", (" + ", ".join(texts) + ")"
        else:
            data_text = ", [" + ", ".join(texts) + "]"
        hint_text = "" if hint is None else f", partition={hint}"
        if topic.accepts(metadata):
            partition = handle.model.choose_partition(hint)
            push.event = ModelEvent(
                push.number, producer.number, partition, metadata, b"".join(segments)
            )
            topic.partitions[partition].add(push.event)
            comment = f"  # partition {partition}"
        else:
            comment = "  # rejected by the validator"
        note(f"{push.var} = {producer.var}.push({argument!r}{data_text}{hint_text}){comment}")
        if segments:
            push.future = producer.producer.push(argument, data_arg, partition=hint)
        else:
            push.future = producer.producer.push(argument, partition=hint)

    def _create_consumer(self, data: st.DataObject) -> None:
        handle = self._draw_handle(data)
        name = self.names[data.draw(_indices(len(self.names)), label="consumer name index")]
        count = handle.topic.model.num_partitions
        targets = data.draw(_targets(count), label="targets")
        selection = data.draw(_choices(_SELECTIONS), label="data selection")
        allocator = data.draw(_choices(_ALLOCATORS), label="data allocator")
        batch_size = _batch_size(data.draw(_choices(_CONSUMER_BATCH_SIZES), label="batch_size"))
        recipes = data.draw(_RECIPES, label="views") if selection == "views" else None
        # Two live consumers sharing a name on one topic is unspecified (a Kafka consumer group
        # would split the partitions between them): take the next free name of the pool.
        live = {c.spec.name for c in self.consumers if c.handle.topic is handle.topic}
        free = [n for n in self.names[self.names.index(name) :] + self.names if n not in live]
        if not free:
            return
        spec = _consumer_spec(free[0], targets, selection, recipes, allocator, batch_size)
        consumer = _Consumer(f"consumer_{self._number()}", handle, spec)
        self.consumers.append(consumer)
        if not self.failed:
            with self._acting():
                self._act_create_consumer(consumer)

    def _act_create_consumer(self, consumer: _Consumer) -> None:
        handle, spec = consumer.handle, consumer.spec
        assert handle.handle is not None
        note(f"{consumer.var} = {handle.var}.consumer({spec.name!r}{spec.arguments})")
        consumer.consumer = handle.handle.consumer(spec.name, **spec.kwargs)
        consumer.model = ConsumerModel.create(
            spec.name, handle.topic.model, spec.kwargs.get("targets")
        )

    def _expected_bytes(self, spec: _ConsumerSpec, event: ModelEvent) -> bytes:
        if spec.selection == "nothing":
            return b""
        if spec.selection == "views":
            assert spec.selector is not None
            size = len(event.data)
            return select_bytes(event.data, spec.selector.recipe_for(size).resolve(size))
        return event.data

    def _check_event(
        self, consumer: _Consumer, var: str, got: Event, candidate: PullCandidate
    ) -> None:
        topic = consumer.handle.topic
        log = topic.model.partitions[candidate.partition]
        if candidate.event_id not in log.by_id:
            self._settle(topic, candidate.partition)
        expected = log.by_id.get(candidate.event_id)
        if expected is None:
            self._fail(
                f"{var} is event {candidate.event_id} of partition {candidate.partition}, but "
                f"the partition only holds ids {sorted(log.by_id)} (an event nobody pushed)"
            )
        if not json_equal(got.metadata, expected.metadata):
            self._fail(
                f"{var}.metadata == {got.metadata!r}, expected {expected.metadata!r} "
                f"(pushed as {expected.describe()})"
            )
        spec = consumer.spec
        if spec.allocator == "none":
            if list(got.data) != []:
                self._fail(f"{var}.data == {got.data!r}: data_allocator=None fetches no data")
        else:
            wanted = self._expected_bytes(spec, expected)
            if spec.allocator == "split":
                wanted += bytes(_SLACK)
            received = b"".join(bytes(memoryview(buffer).cast("B")) for buffer in got.data)
            if received != wanted:
                self._fail(
                    f"{var}.data holds {_bytes_text(received)}, expected {_bytes_text(wanted)} "
                    f"(data {_bytes_text(expected.data)} of {expected.describe()}, selection "
                    f"{spec.selection})"
                )
        assert consumer.handle.handle is not None
        partitions = consumer.handle.handle.partitions
        if got.partition != partitions[candidate.partition]:
            self._fail(
                f"{var}.partition == {got.partition!r}, expected "
                f"{consumer.handle.var}.partitions[{candidate.partition}] == "
                f"{partitions[candidate.partition]!r}"
            )

    def _pull(self, consumer: _Consumer, timeout_ms: int) -> bool:
        """Pull once and check the outcome; return whether an event was delivered."""
        model, pulling = consumer.model, consumer.consumer
        assert model is not None and pulling is not None
        candidates, may_be_empty = model.candidates(self.STRICT_ROUND_ROBIN)
        var = f"e_{next(self._pulls)}"
        call = f"{consumer.var}.pull().wait({timeout_ms})"
        patience = self._delivery_timeout_ms()
        future = pulling.pull()
        got = wait_within(future, timeout_ms)
        if (got is None or got.event_id is None) and not may_be_empty:
            # The event is stored: give the backend some time to deliver it.
            call = (
                f"(future := {consumer.var}.pull()).wait({timeout_ms}) or future.wait({patience})"
            )
            got = wait_within(future, patience)
        if (got is None or got.event_id is None) and not candidates:
            note(f"assert {call} is None")
            return False
        note(f"{var} = {call}")
        note(_expectation(var, candidates, may_be_empty))
        if got is None or got.event_id is None:
            if may_be_empty:
                return False
            expected = next(c for c in candidates if c.certain)
            _LOSSY_BACKENDS.add(self.backend.name)
            self._fail(
                f"{consumer.var} delivered nothing in {patience} ms, but "
                f"event {expected.event_id} of partition {expected.partition} is stored "
                f"(lost event); {consumer.var} targets {model.targets}, next ids "
                f"{model.next_ids}"
            )
        partition, event_id = got.partition_index, got.event_id
        matching = [c for c in candidates if c.partition == partition]
        if not matching:
            expected_text = (
                ", ".join(f"partition {c.partition} id {c.event_id}" for c in candidates)
                or "nothing"
            )
            self._fail(
                f"{var} is event {event_id} of partition {partition}; the model expects "
                f"{expected_text} ({consumer.var} targets {model.targets}, round robin from "
                f"target index {model.cursor}, next ids {model.next_ids})"
            )
        candidate = matching[0]
        if event_id != candidate.event_id:
            kind = "a duplicate" if event_id < candidate.event_id else "events were skipped"
            self._fail(
                f"{var} is event {event_id} of partition {partition}, expected event "
                f"{candidate.event_id} ({kind}; ids follow each other from the acknowledged "
                "position)"
            )
        self._check_event(consumer, var, got, candidate)
        model.delivered(candidate)
        consumer.last = (var, got, partition, event_id)
        return True

    def _acknowledge(self, consumer: _Consumer) -> bool:
        """Acknowledge the consumer's last event, unless it is behind its name's position
        (whether an older acknowledgement moves the position back is unspecified)."""
        if consumer.last is None:
            return False
        var, event, partition, event_id = consumer.last
        topic = consumer.handle.topic.model
        if event_id < topic.acknowledged.get(consumer.spec.name, {}).get(partition, -1):
            return False
        note(f"{var}.acknowledge()")
        event.acknowledge()
        topic.acknowledge(consumer.spec.name, partition, event_id)
        return True

    # ----------------------------------------------------------------- rules

    @initialize(data=st.data())
    def start(self, data: st.DataObject) -> None:
        """Choose the consumer names (a small pool, so names repeat), create a first topic, a
        producer and a consumer, and push a few events (initial steps always run, whichever
        rules Hypothesis enables for the program)."""
        self.names = data.draw(self.CONSUMER_NAMES, label="consumer names")
        self._create_topic(data)
        self._create_producer(data)
        self._create_consumer(data)
        self._push_events(data, self.producers[0], least=2)

    @precondition(lambda self: self._occasionally() and len(self.topics) < self.MAX_TOPICS)
    @rule(data=st.data())
    def create_topic(self, data: st.DataObject) -> None:
        """Create a topic (1 to 4 partitions, maybe a validator) and open it."""
        self._create_topic(data)

    @precondition(
        lambda self: (
            self._occasionally()
            and any(len(t.handles) < self.MAX_HANDLES_PER_TOPIC for t in self.topics)
        )
    )
    @rule(data=st.data())
    def open_another_handle(self, data: st.DataObject) -> None:
        """Open one more handle on a topic (it has its own partition selector)."""
        choices = [t for t in self.topics if len(t.handles) < self.MAX_HANDLES_PER_TOPIC]
        topic = choices[data.draw(_indices(len(choices)), label="topic index")]
        handle = self._new_handle(topic)
        if not self.failed:
            with self._acting():
                self._open_handle(handle)

    @precondition(lambda self: self._occasionally() and bool(self.topics))
    @rule(data=st.data())
    def reopen_handle(self, data: st.DataObject) -> None:
        """Close a topic handle (its producers and consumers first), open it again and
        re-create its producers and consumers on the new handle (consumers resume after their
        names' acknowledged positions; new producers append after the stored events)."""
        handle = self._draw_handle(data)
        handle.topic.handles.remove(handle)
        reopened = self._new_handle(handle.topic)
        producers, consumers = self._replace_clients({id(handle): reopened})
        if self.failed:
            return
        with self._acting():
            self._act_close_clients(producers, consumers)
            assert handle.handle is not None
            note(f"{handle.var}.close()")
            handle.handle.close()
            self._open_handle(reopened)
            self._act_create_clients(producers, consumers)

    @precondition(lambda self: len(self.producers) < self.MAX_PRODUCERS)
    @rule(data=st.data())
    def create_producer(self, data: st.DataObject) -> None:
        """Create a producer with batch size 1, 3 or adaptive (several stay alive)."""
        self._create_producer(data)

    @precondition(lambda self: self._occasionally() and bool(self.producers))
    @rule(data=st.data())
    def close_producer(self, data: st.DataObject) -> None:
        """Close a producer (it flushes): all its events are stored, with the model's ids."""
        producer = self._draw_producer(data)
        self.producers.remove(producer)
        if not self.failed:
            with self._acting():
                self._close_producer(producer)

    @precondition(lambda self: bool(self.producers))
    @rule(data=st.data())
    def push(self, data: st.DataObject) -> None:
        """Push 1 to 4 events with one producer (random metadata and data, maybe a
        partition)."""
        self._push_events(data, self._draw_producer(data))

    def _push_events(self, data: st.DataObject, producer: _Producer, least: int = 1) -> None:
        count = producer.handle.topic.model.num_partitions
        # With a thread pool, partition selection runs on the pool in no set order: the model
        # can only follow requested partitions.
        hints = _indices(count + 2) if producer.threads else _hints(count)
        most = self.MAX_EVENTS_PER_PUSH
        events = data.draw(
            _push_lists(self.METADATA, self.DATA, hints, least, most), label="events"
        )
        for metadata, segments, hint, as_text in events:
            self._push(producer, metadata, segments, hint, as_text)

    @precondition(lambda self: bool(self.pushes))
    @rule(data=st.data())
    def wait_on_push(self, data: st.DataObject) -> None:
        """Wait on a push future (recent ones first), or on every unresolved one: the model's
        ids, or InvalidMetadata."""
        index = data.draw(_indices(len(self.pushes) + 1), label="push index (from last)")
        if not self.failed:
            with self._acting():
                if index == len(self.pushes):
                    self._wait_unresolved(self.pushes)
                else:
                    self._wait_push(self.pushes[-1 - index])

    @precondition(lambda self: bool(self.producers))
    @rule(data=st.data())
    def flush(self, data: st.DataObject) -> None:
        """Flush a producer: afterwards all its events are stored, with the model's ids."""
        producer = self._draw_producer(data)
        if self.failed:
            return
        with self._acting():
            assert producer.producer is not None
            note(f"assert {producer.var}.flush().wait()")
            if producer.producer.flush().wait(self.PUSH_TIMEOUT_MS) is not True:
                self._fail(f"{producer.var}.flush() did not complete in {self.PUSH_TIMEOUT_MS} ms")
            self._wait_unresolved([push for push in self.pushes if push.producer is producer])

    @precondition(lambda self: len(self.consumers) < self.MAX_CONSUMERS)
    @rule(data=st.data())
    def create_consumer(self, data: st.DataObject) -> None:
        """Create a consumer: a name from the pool, maybe targets, a data selection and an
        allocator. It starts after the name's acknowledged positions."""
        self._create_consumer(data)

    @precondition(lambda self: bool(self.consumers))
    @rule(data=st.data())
    def pull(self, data: st.DataObject) -> None:
        """Pull once or a few times, or until nothing comes (at most 50 events), maybe
        acknowledging: the model's next events, or nothing when none can be stored."""
        consumer = self._draw_consumer(data)
        count = data.draw(_PULL_COUNTS, label="pulls")
        timeout_ms = data.draw(_choices(self.PULL_TIMEOUTS_MS), label="timeout_ms")
        acknowledge = self.acknowledgements and data.draw(_BOOLEANS, label="acknowledge")
        consumer.pulls += 1
        if self.failed:
            return
        with self._acting():
            for _ in range(count):
                if not self._pull(consumer, timeout_ms):
                    break
            if acknowledge:
                self._acknowledge(consumer)

    @precondition(lambda self: self.acknowledgements and any(c.pulls for c in self.consumers))
    @rule(data=st.data())
    def acknowledge(self, data: st.DataObject) -> None:
        """Acknowledge the last event of a consumer (the drawn one or the next that has one)."""
        start = data.draw(_indices(len(self.consumers)), label="consumer index")
        if not self.failed:
            with self._acting():
                for consumer in self.consumers[start:] + self.consumers[:start]:
                    if self._acknowledge(consumer):
                        break

    @precondition(lambda self: self.acknowledgements and bool(self.consumers))
    @rule(data=st.data())
    def acknowledge_and_restart(self, data: st.DataObject) -> None:
        """Pull (unless the consumer has an event already), acknowledge, re-create the
        consumer with the same name and pull: the event after the acknowledged one."""
        old = self._draw_consumer(data)
        new = _Consumer(f"consumer_{self._number()}", old.handle, old.spec, pulls=1)
        self.consumers[self.consumers.index(old)] = new
        if not self.failed:
            with self._acting():
                if old.last is None:
                    self._pull(old, 0)
                self._acknowledge(old)
                self._close_consumer(old)
                self._act_create_consumer(new)
                self._pull(new, 0)

    @precondition(lambda self: bool(self.consumers))
    @rule(data=st.data())
    def recreate_consumer(self, data: st.DataObject) -> None:
        """Close a consumer and create it again with the same name and arguments: it resumes
        after the acknowledged positions (no duplicate, no loss)."""
        old = self._draw_consumer(data)
        new = _Consumer(f"consumer_{self._number()}", old.handle, old.spec)
        self.consumers[self.consumers.index(old)] = new
        if not self.failed:
            with self._acting():
                self._close_consumer(old)
                self._act_create_consumer(new)

    @precondition(lambda self: self._occasionally() and self.restartable)
    @rule()
    def restart_driver(self) -> None:
        """Close every producer, consumer and handle and the driver, create the driver again
        with the same options and reopen the topics (for backends whose topics and
        acknowledgements persist): nothing is lost, consumers resume where their names left."""
        handles = self._handles()
        new_handles: dict[int, _Handle] = {}
        for topic in self.topics:
            old_handles, topic.handles = topic.handles, []
            reopened = self._new_handle(topic)
            new_handles.update((id(old), reopened) for old in old_handles)
        producers, consumers = self._replace_clients(new_handles)
        if self.failed:
            return
        with self._acting():
            self._act_close_clients(producers, consumers)
            for handle in handles:
                assert handle.handle is not None
                note(f"{handle.var}.close()")
                handle.handle.close()
            note("driver.close()")
            self.driver.close()
            note("driver = Driver(backend=backend.name, options=options)")
            self.driver = Driver(backend=self.backend.name, options=self._driver_options)
            for topic in self.topics:
                self._open_handle(topic.handles[0])
            self._act_create_clients(producers, consumers)

    @precondition(lambda self: self._occasionally() and bool(self.topics))
    @rule(data=st.data())
    def read_everything(self, data: st.DataObject) -> None:
        """Wait on every push of a topic, then read it all with a new consumer name: exactly
        the model's events, in round-robin order."""
        handle = self._draw_handle(data)
        recipes = data.draw(st.none() | _RECIPES, label="views")
        reader = self._reader(handle, recipes)
        if not self.failed:
            with self._acting():
                self._read_everything(reader)

    def _reader(self, handle: _Handle, recipes: list[ViewRecipe] | None = None) -> _Consumer:
        name = f"reader-{self._number()}"
        selection = "default" if recipes is None else "views"
        spec = _consumer_spec(name, None, selection, recipes, "default", AdaptiveBatchSize)
        return _Consumer(f"consumer_{self._number()}", handle, spec)

    def _read_everything(self, reader: _Consumer) -> None:
        topic = reader.handle.topic
        for partition in range(topic.model.num_partitions):
            self._settle(topic, partition)
        self._act_create_consumer(reader)
        total = sum(len(log.by_id) for log in topic.model.partitions)
        for _ in range(total + 1):
            if not self._pull(reader, 0):
                break
        self._close_consumer(reader)

    # ----------------------------------------------------------------- invariants

    @invariant()
    def ids_are_dense(self) -> None:
        """Known ids leave no more holes than there are unresolved events to fill them."""
        self._steps += 1
        if not self.failed:
            with self._acting():
                for topic in self.topics:
                    for log in topic.model.partitions:
                        log.check_dense()

    def teardown(self) -> None:
        """Read every topic once more (after waiting on every push: exactly the model's events,
        no loss, no duplicate), close everything, and raise the first failure of a step."""
        if not self.failed:
            note("# end of the program: every topic must hold exactly the pushed events")
            with self._acting():
                for topic in self.topics:
                    if topic.handles and topic.handles[0].handle is not None:
                        self._read_everything(self._reader(topic.handles[0]))
                        self._read_everything(self._reader(topic.handles[0], FINAL_VIEWS))
        things: list[Any] = [c.consumer for c in self.consumers]
        things += [p.producer for p in self.producers]
        things += [h.handle for h in self._handles()]
        things.append(self.driver)
        for thing in things:
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # noqa: BLE001 - best effort
                    pass
        shutil.rmtree(self._directory, ignore_errors=True)
        if self.failure is not None:
            raise self.failure


def _expectation(var: str, candidates: list[PullCandidate], may_be_empty: bool) -> str:
    """An assert statement saying what the model allows a pull to return."""
    pairs = [(c.partition, c.event_id) for c in candidates]
    got = f"({var}.partition_index, {var}.event_id)"
    test = f"{got} == {pairs[0]}" if len(pairs) == 1 else f"{got} in {pairs}"
    if may_be_empty:
        return f"assert {var} is None or {test}"
    return f"assert {var} is not None and {test}"


def _consumer_spec(
    name: str,
    targets: list[int] | None,
    selection: str,
    recipes: list[Any] | None,
    allocator: str,
    batch_size: int,
) -> _ConsumerSpec:
    """The arguments of ``TopicHandle.consumer`` for the drawn options, and their source."""
    selector = None
    kwargs: dict[str, Any] = {}
    texts: list[str] = []
    if targets is not None:
        kwargs["targets"] = targets
        texts.append(f"targets={targets!r}")
    if selection == "full":
        kwargs["data_selector"] = FullDataSelector
        texts.append("data_selector=FullDataSelector")
    elif selection == "nothing":
        kwargs["data_selector"] = NoDataSelector()
        texts.append("data_selector=NoDataSelector()")
    elif selection == "views":
        assert recipes is not None
        selector = RecipeSelector(recipes)
        kwargs["data_selector"] = selector
        texts.append(f"data_selector={selector!r}")
    if allocator == "bytearray":
        kwargs["data_allocator"] = ByteArrayAllocator
        texts.append("data_allocator=ByteArrayAllocator")
    elif allocator == "split":
        kwargs["data_allocator"] = SplitAllocator(_SLACK)
        texts.append(f"data_allocator=SplitAllocator({_SLACK})")
    elif allocator == "none":
        kwargs["data_allocator"] = None
        texts.append("data_allocator=None")
    if batch_size != AdaptiveBatchSize:
        kwargs["batch_size"] = batch_size
        texts.append(f"batch_size={batch_size}")
    arguments = "".join(", " + text for text in texts)
    return _ConsumerSpec(name, arguments, kwargs, selection, selector, allocator)


class StatefulTests(ConformanceBase):
    """Model-based stateful tests (see :mod:`diaspora_stream_conformance.stateful`)."""

    #: The state machine the test runs; subclass :class:`DiasporaStateMachine` to tune it.
    state_machine: ClassVar[type[DiasporaStateMachine]] = DiasporaStateMachine

    @MUST
    def test_random_programs_match_the_model(
        self, diaspora_backend: BackendUnderTest, request: pytest.FixtureRequest
    ) -> None:
        """Random programs of API calls behave exactly as the model of the API says.

        Checked after every step: dense ids in push order, no loss, no duplicate, round-robin
        delivery from the acknowledged position, metadata round trip, exact selected bytes,
        validator rejections."""
        steps = STATEFUL_STEPS[profile_name(request.config)]
        machine = self.state_machine
        run_state_machine_as_test(
            # Hypothesis accepts any factory, though its annotation says a class.
            lambda: machine(diaspora_backend),  # type: ignore[arg-type]
            settings=settings(stateful_step_count=steps),
        )
