"""Rules about data handed to push as views: the stored bytes are the viewed bytes (D2).

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

import array
from typing import Any

import numpy as np

from diaspora_stream.api import Driver

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    data_bytes,
    push_and_flush,
    read_all,
)
from ..levels import MUST

__all__ = ["InputViewRules"]

_BASE = bytes(range(256)) * 4


def _view_cases() -> dict[str, Any]:
    """Data arguments that are views into larger buffers, by name (made fresh per call)."""
    grid = np.arange(64, dtype=np.uint32).reshape(8, 8)
    doubles = np.linspace(-1.5, 2.5, 40)
    return {
        "memoryview slice at 5": memoryview(_BASE)[5:17],
        "memoryview slice of a slice": memoryview(_BASE)[100:][7:31],
        "bytearray slice view": memoryview(bytearray(_BASE))[300:333],
        "strided memoryview": memoryview(_BASE)[9:200:7],
        "typed array slice": memoryview(array.array("d", [0.5 * n for n in range(20)]))[3:9],
        "numpy uint8 slice": np.arange(200, dtype=np.uint8)[17:61],
        "numpy non-contiguous": np.arange(200, dtype=np.uint8)[1::3],
        "numpy float64 slice": doubles[5:12],
        "numpy int16 every fourth": np.arange(100, dtype=np.int16)[3::4],
        "numpy 2-D block": grid[2:5, 1:4],
        "numpy column": grid[:, 6],
        "mixed list": [
            memoryview(_BASE)[40:45],
            np.arange(30, dtype=np.int32)[::5],
            b"",
            bytearray(b"tail"),
            doubles[1:3],
        ],
    }


def _viewed_bytes(data: Any) -> bytes:
    """The bytes a data argument designates: each buffer's bytes in logical order, joined."""
    segments = data if isinstance(data, list) else [data]
    return b"".join(memoryview(segment).tobytes() for segment in segments)


class InputViewRules(ConformanceBase):
    """Rules about data handed to push as views: the stored bytes are the viewed bytes (D2)."""

    @MUST
    def test_data_length_is_nbytes(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Data length is nbytes, not the item count; non-contiguous buffers, tuples work (D2)."""
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        doubles = array.array("d", [0.5, 1.5, -2.25])
        strided = memoryview(bytes(range(20)))[::3]
        push_and_flush(
            topic.producer(),
            [
                ({"kind": "doubles"}, doubles),
                ({"kind": "strided"}, strided),
                ({"kind": "tuple"}, (b"ab", doubles)),
            ],
        )
        got = {event.metadata["kind"]: data_bytes(event) for event in read_all(topic, 3)}
        assert len(got["doubles"]) == 24
        assert got["doubles"] == doubles.tobytes()
        assert got["strided"] == bytes(range(0, 20, 3))
        assert got["tuple"] == b"ab" + doubles.tobytes()

    @MUST
    def test_data_given_as_views_stores_the_viewed_bytes(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Data handed over as a view is stored as the viewed bytes, not the buffer behind.

        Data handed over as views (slices with a non-zero start, strided and typed arrays,
        numpy slices, mixed lists) is stored as exactly the viewed bytes, not the bytes of
        the buffer behind the view.
        """
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        cases = _view_cases()
        push_and_flush(topic.producer(), [({"case": name}, data) for name, data in cases.items()])
        got = {event.metadata["case"]: data_bytes(event) for event in read_all(topic, len(cases))}
        for name, data in cases.items():
            expected = _viewed_bytes(data)
            assert got[name] == expected, (
                f"data given as {name} came back as {len(got[name])} bytes "
                f"{got[name][:16]!r}..., expected the {len(expected)} viewed bytes "
                f"{expected[:16]!r}..."
            )

    @MUST
    def test_buffers_changed_after_flush_do_not_change_stored_events(
        self, driver: Driver, diaspora_backend: BackendUnderTest
    ) -> None:
        """Buffers changed after a completed flush do not change the stored events.

        Once a flush completed, the caller may reuse its buffers: changing them does not
        change the stored events.
        """
        topic = driver.open_topic(diaspora_backend.create_topic(driver))
        reused = bytearray(b"first contents")
        array_buffer = np.arange(16, dtype=np.uint8)
        push_and_flush(
            topic.producer(),
            [({"n": 0}, reused), ({"n": 1}, [memoryview(reused)[6:], array_buffer[4:8]])],
        )
        reused[:14] = b"SECOND CONTENT"
        array_buffer.fill(255)
        got = {event.metadata["n"]: data_bytes(event) for event in read_all(topic, 2)}
        assert got[0] == b"first contents", f"the stored event changed with its buffer: {got[0]!r}"
        assert got[1] == b"contents" + bytes([4, 5, 6, 7]), f"stored bytes changed: {got[1]!r}"
