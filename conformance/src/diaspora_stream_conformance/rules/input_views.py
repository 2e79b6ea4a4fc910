"""Rules about data handed to push as views: the stored bytes are the viewed bytes (D2).

Each test states its rule in the first line of its docstring.
"""

from __future__ import annotations

import array

from diaspora_stream.api import (
    Driver,
)

from ..backend import BackendUnderTest
from ..base import ConformanceBase
from ..helpers import (
    data_bytes,
    push_and_flush,
    read_all,
)
from ..levels import MUST

__all__ = ["InputViewRules"]


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
