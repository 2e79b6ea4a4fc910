"""Rules about data selection on the consumer side: views, selectors, allocators.

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

from typing import Any

from diaspora_stream.api import (
    ByteArrayAllocator,
    DataDescriptor,
    Driver,
    FullDataSelector,
)

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    LOWER,
    UPPER,
    alphabet_topic,
    data_bytes,
    push_and_flush,
    read_all,
    select_bytes,
)
from ..levels import MUST

__all__ = ["SelectionRules"]


class SelectionRules(ConformanceBase):
    """Rules about data selection on the consumer side: views, selectors, allocators."""

    @MUST
    def test_even_odd_data_selector(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A selector keeping even events' data: even events get their bytes, odd ones none."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(
            topic.producer(),
            [({"event_num": i}, b"This is data for event %d" % i) for i in range(100)],
        )

        def selector(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor | None:
            return descriptor if metadata["event_num"] % 2 == 0 else None

        def allocator(metadata: Any, descriptor: DataDescriptor) -> list[bytearray]:
            return [bytearray(descriptor.size)] if descriptor.size else []

        events = read_all(topic, 100, data_selector=selector, data_allocator=allocator)
        for i, event in enumerate(events):
            assert event.event_id == i and event.metadata["event_num"] == i
            if i % 2 == 0:
                assert len(event.data) == 1
                assert data_bytes(event) == b"This is data for event %d" % i
            else:
                assert data_bytes(event) == b"", f"odd event {i} got data"

    @MUST
    def test_select_no_data(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """Selecting DataDescriptor() gives an event with no data."""
        topic = alphabet_topic(diaspora_backend, driver)
        assert select_bytes(topic, lambda metadata, descriptor: DataDescriptor()) == b""

    @MUST
    def test_select_whole_data(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """Selecting the given descriptor gives all the data, segments concatenated (52 bytes)."""
        topic = alphabet_topic(diaspora_backend, driver)
        assert select_bytes(topic, lambda metadata, descriptor: descriptor) == LOWER + UPPER

    @MUST
    def test_select_sub_view(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """make_sub_view(offset=13, size=26) selects exactly those 26 bytes."""
        topic = alphabet_topic(diaspora_backend, driver)
        selected = select_bytes(
            topic, lambda metadata, descriptor: descriptor.make_sub_view(offset=13, size=26)
        )
        assert selected == b"nopqrstuvwxyzABCDEFGHIJKLM"

    @MUST
    def test_select_strided_view(self, driver: Driver, diaspora_backend: BackendUnderTest) -> None:
        """make_strided_view (alias make_stride_view) selects blocks separated by gaps."""
        for method in ("make_strided_view", "make_stride_view"):
            topic = alphabet_topic(diaspora_backend, driver)

            def selector(
                metadata: Any, descriptor: DataDescriptor, method: str = method
            ) -> DataDescriptor:
                view: DataDescriptor = getattr(descriptor, method)(
                    offset=13, num_blocks=3, block_size=4, gap_size=2
                )
                return view

            assert select_bytes(topic, selector) == b"nopqtuvwzABC", method

    @MUST
    def test_select_unstructured_view(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """make_unstructured_view selects the listed (offset, size) segments in order."""
        topic = alphabet_topic(diaspora_backend, driver)
        selected = select_bytes(
            topic,
            lambda metadata, descriptor: descriptor.make_unstructured_view(
                segments=[(3, 6), (15, 4), (27, 8)]
            ),
        )
        assert selected == b"defghipqrsBCDEFGHI"

    @MUST
    def test_selector_returning_none_fetches_no_data(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """A data selector returning None means "no data", with or without an allocator."""
        topic = alphabet_topic(diaspora_backend, driver)
        (event,) = read_all(topic, 1, data_selector=lambda metadata, descriptor: None)
        assert data_bytes(event) == b""
        assert select_bytes(topic, lambda metadata, descriptor: None) == b""

    @MUST
    def test_allocator_called_with_selection(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """The allocator receives the event's metadata and the selected descriptor."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"id": 1}, b"0123456789")])
        calls: list[tuple[Any, int]] = []

        def allocator(metadata: Any, descriptor: DataDescriptor) -> list[bytearray]:
            calls.append((metadata, descriptor.size))
            return [bytearray(descriptor.size)]

        (event,) = read_all(
            topic,
            1,
            data_selector=lambda metadata, descriptor: descriptor.make_sub_view(offset=2, size=5),
            data_allocator=allocator,
        )
        assert calls == [({"id": 1}, 5)]
        assert data_bytes(event) == b"23456"

    @MUST
    def test_event_data_is_the_allocator_list(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """event.data is the very list the allocator returned, filled with the selected bytes."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"id": 1}, b"hello world")])
        returned: list[list[bytearray]] = []

        def allocator(metadata: Any, descriptor: DataDescriptor) -> list[bytearray]:
            buffers = [bytearray(descriptor.size)]
            returned.append(buffers)
            return buffers

        (event,) = read_all(
            topic,
            1,
            data_selector=lambda metadata, descriptor: descriptor,
            data_allocator=allocator,
        )
        assert event.data is returned[0]
        assert isinstance(event.data[0], bytearray) and event.data[0] == b"hello world"

    @MUST
    def test_full_data_selector_and_bytearray_allocator(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """FullDataSelector with ByteArrayAllocator gives [bytearray] holding the whole data."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"id": 1}, [b"ab", b"cd"])])
        (event,) = read_all(
            topic, 1, data_selector=FullDataSelector, data_allocator=ByteArrayAllocator
        )
        assert len(event.data) == 1 and isinstance(event.data[0], bytearray)
        assert event.data[0] == b"abcd"

    @MUST
    def test_allocator_list_of_several_buffers_is_filled_in_order(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """The selected bytes fill the allocator's buffers contiguously, in order."""
        topic = alphabet_topic(diaspora_backend, driver)
        buffers = [bytearray(10), bytearray(30), bytearray(12)]
        read_all(
            topic,
            1,
            data_selector=FullDataSelector,
            data_allocator=lambda metadata, descriptor: buffers,
        )
        assert b"".join(buffers) == LOWER + UPPER
        assert bytes(buffers[0]) == b"abcdefghij"

    @MUST
    def test_composed_views_select_relative_bytes(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Stacked views compose relatively, each in the previous one's coordinates (D3)."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        base = bytes(range(200))
        push_and_flush(topic.producer(), [({}, [base[:77], base[77:]])])
        level1 = base[50:150]
        level2 = b"".join(level1[10 + i * 10 : 14 + i * 10] for i in range(3))
        level3 = level2[2:10]
        sizes: list[int] = []

        def selector(metadata: Any, descriptor: DataDescriptor) -> DataDescriptor:
            view = (
                descriptor.make_sub_view(offset=50, size=100)
                .make_strided_view(offset=10, num_blocks=3, block_size=4, gap_size=6)
                .make_sub_view(offset=2, size=8)
            )
            sizes.append(view.size)
            return view

        assert select_bytes(topic, selector) == level3
        assert sizes == [8]
        unstructured = select_bytes(
            topic,
            lambda metadata, descriptor: descriptor.make_sub_view(
                offset=100, size=50
            ).make_unstructured_view(segments=[(0, 2), (10, 3), (48, 2)]),
        )
        assert unstructured == base[100:102] + base[110:113] + base[148:150]

    @MUST
    def test_no_allocator_gives_empty_data(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """With data_allocator=None no data is fetched and event.data is [] (D4)."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        push_and_flush(topic.producer(), [({"i": 0}, b"payload")])
        (event,) = read_all(topic, 1, data_allocator=None)
        assert event.data == []
        assert event.metadata == {"i": 0}
