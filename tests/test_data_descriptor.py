"""Tests of ``DataDescriptor`` (reference §2.11, §3.6 and §9.3; design deviation D3)."""

from __future__ import annotations

import copy
import pickle
import string
import struct
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from diaspora_stream.data_descriptor import DataDescriptor
from diaspora_stream.exceptions import Exception as DiasporaException

LETTERS = (string.ascii_lowercase + string.ascii_uppercase).encode()  # 52 bytes "a..zA..Z"
assert len(LETTERS) == 52


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Sub:
    offset: int
    size: int

    def make(self, d: DataDescriptor) -> DataDescriptor:
        return d.make_sub_view(offset=self.offset, size=self.size)

    def apply(self, data: bytes) -> bytes:
        return data[self.offset : self.offset + self.size]


@dataclass(frozen=True)
class Strided:
    offset: int
    num_blocks: int
    block_size: int
    gap_size: int

    def make(self, d: DataDescriptor) -> DataDescriptor:
        return d.make_stride_view(
            offset=self.offset,
            num_blocks=self.num_blocks,
            block_size=self.block_size,
            gap_size=self.gap_size,
        )

    def apply(self, data: bytes) -> bytes:
        stride = self.block_size + self.gap_size
        return b"".join(
            data[self.offset + i * stride : self.offset + i * stride + self.block_size]
            for i in range(self.num_blocks)
        )


@dataclass(frozen=True)
class Unstructured:
    segments: tuple[tuple[int, int], ...]

    def make(self, d: DataDescriptor) -> DataDescriptor:
        return d.make_unstructured_view(segments=list(self.segments))

    def apply(self, data: bytes) -> bytes:
        return b"".join(data[o : o + s] for o, s in self.segments)


View = Sub | Strided | Unstructured


def select(data: bytes, d: DataDescriptor) -> bytes:
    """The bytes of ``data`` (the base data) that ``d`` selects, according to ``flatten()``."""
    return b"".join(data[o : o + s] for o, s in d.flatten())


def build(base: DataDescriptor, views: list[View]) -> DataDescriptor:
    d = base
    for view in views:
        d = view.make(d)
    return d


def apply_all(data: bytes, views: list[View]) -> bytes:
    """Reference model of relative composition: apply each view to the bytes, step by step."""
    for view in views:
        data = view.apply(data)
    return data


def reference_single_level_flatten(base_size: int, view: View) -> list[tuple[int, int]]:
    """The C++ reference's flatten() for one view on a fresh descriptor (absolute coords).

    Zero-length pieces (which the reference can emit for zero-size segments) are dropped, as
    our ``flatten()`` documents.
    """
    seg_o, seg_end = 0, base_size
    result: list[tuple[int, int]] = []
    if isinstance(view, Sub):
        size = min(view.size, base_size - view.offset)
        if not (view.offset >= seg_end or view.offset + size <= seg_o):
            result.append((view.offset, size))
    elif isinstance(view, Strided):
        for i in range(view.num_blocks):
            start = view.offset + i * (view.block_size + view.gap_size)
            end = start + view.block_size
            if end <= seg_o or start >= seg_end:
                continue
            start, end = max(start, seg_o), min(end, seg_end)
            if end > start:
                result.append((start, end - start))
    else:
        merged: list[tuple[int, int]] = []
        for o, s in view.segments:
            if merged and sum(merged[-1]) == o:
                merged[-1] = (merged[-1][0], merged[-1][1] + s)
            else:
                merged.append((o, s))
        for o, s in merged:
            if not (o >= seg_end or o + s <= seg_o):
                result.append((o, s))
    return [(o, s) for o, s in result if s]


# --------------------------------------------------------------------------- strategies


@st.composite
def views_for(draw: st.DrawFn, size: int) -> View:
    """A view that is valid on a selection of ``size`` bytes (sub views may be truncated)."""
    kind = draw(st.sampled_from(["sub", "strided", "unstructured"]))
    if kind == "sub":
        offset = draw(st.integers(0, size))
        return Sub(offset, draw(st.integers(0, size - offset + 3)))
    if kind == "strided":
        num_blocks = draw(st.integers(0, 6))
        if num_blocks == 0:
            return Strided(draw(st.integers(0, size)), 0, draw(st.integers(0, 4)), 0)
        block_size = draw(st.integers(0, size // num_blocks))
        if num_blocks == 1:
            gap_size = draw(st.integers(0, 5))
        else:
            gap_size = draw(st.integers(0, (size - num_blocks * block_size) // (num_blocks - 1)))
        extent = (num_blocks - 1) * (block_size + gap_size) + block_size
        offset = draw(st.integers(0, size - extent))
        return Strided(offset, num_blocks, block_size, gap_size)
    points = sorted(draw(st.lists(st.integers(0, size), max_size=8)))
    points = points[: len(points) // 2 * 2]
    return Unstructured(tuple((a, b - a) for a, b in zip(points[::2], points[1::2], strict=True)))


@st.composite
def stacks(draw: st.DrawFn, min_views: int = 1, max_views: int = 4) -> tuple[int, list[View]]:
    """A base size and a stack of views, each valid on the selection of the previous ones."""
    base_size = draw(st.integers(0, 120))
    data = bytes(range(base_size))  # distinct bytes: any offset mistake shows
    views: list[View] = []
    for _ in range(draw(st.integers(min_views, max_views))):
        view = draw(views_for(len(data)))
        views.append(view)
        data = view.apply(data)
    return base_size, views


# --------------------------------------------------------------------------- reference tests


class TestReferenceExpectations:
    """The reference python tests (``test_data_descriptor.py``), adapted to deviation D3."""

    def setup_method(self) -> None:
        self.d = DataDescriptor("test_location", 1024)

    def test_initialization(self) -> None:
        assert self.d.size == 1024
        assert self.d.location == "test_location"
        assert self.d.base_size == 1024
        empty = DataDescriptor()
        assert empty.size == 0
        assert empty.location == ""
        assert empty.base_size == 0

    def test_make_sub_view(self) -> None:
        sub = self.d.make_sub_view(offset=100, size=200)
        assert isinstance(sub, DataDescriptor)
        assert sub.size == 200
        assert sub.location == "test_location"
        assert sub.base_size == 1024

    def test_make_sub_view_out_of_bounds(self) -> None:
        # Like the reference: an offset past the end gives a brand-new empty descriptor.
        empty = self.d.make_sub_view(offset=1200, size=200)
        assert empty == DataDescriptor()
        assert (empty.size, empty.location, empty.base_size) == (0, "", 0)
        assert self.d.make_sub_view(offset=900, size=200).size == 124

    def test_make_stride_view(self) -> None:
        strided = self.d.make_stride_view(offset=0, num_blocks=4, block_size=64, gap_size=192)
        assert isinstance(strided, DataDescriptor)
        assert strided.size == 256
        assert strided.location == "test_location"

    def test_make_stride_view_out_of_bounds(self) -> None:
        with pytest.raises(DiasporaException, match="out of bounds"):
            self.d.make_stride_view(offset=0, num_blocks=4, block_size=128, gap_size=192)

    def test_make_unstructured_view(self) -> None:
        view = self.d.make_unstructured_view(segments=[(0, 100), (200, 100), (400, 100)])
        assert isinstance(view, DataDescriptor)
        assert view.size == 300
        assert view.location == "test_location"

    def test_make_unstructured_view_out_of_bounds(self) -> None:
        with pytest.raises(DiasporaException, match="out of bounds"):
            self.d.make_unstructured_view(segments=[(0, 100), (200, 100), (1000, 200)])

    def test_make_unstructured_view_overlapping(self) -> None:
        with pytest.raises(DiasporaException, match="overlapping or out of order"):
            self.d.make_unstructured_view(segments=[(0, 200), (100, 200)])

    def test_flatten_contiguous_view(self) -> None:
        flat = self.d.make_sub_view(offset=100, size=200).flatten()
        assert isinstance(flat, list)
        assert len(flat) == 1
        assert flat == [(100, 200)]
        assert isinstance(flat[0], tuple)

    def test_flatten_stride_view(self) -> None:
        strided = self.d.make_stride_view(offset=0, num_blocks=4, block_size=64, gap_size=192)
        assert strided.flatten() == [(0, 64), (256, 64), (512, 64), (768, 64)]

    def test_flatten_unstructured_view(self) -> None:
        view = self.d.make_unstructured_view(segments=[(0, 100), (200, 100), (400, 100)])
        assert view.flatten() == [(0, 100), (200, 100), (400, 100)]


# --------------------------------------------------------------------------- single-level examples


def test_flatten_without_views() -> None:
    assert DataDescriptor().flatten() == [(0, 0)]
    assert DataDescriptor("x", 1024).flatten() == [(0, 1024)]


def test_strided_selects_letters() -> None:
    d = DataDescriptor("", 52).make_stride_view(offset=13, num_blocks=3, block_size=4, gap_size=2)
    assert d.size == 12
    assert select(LETTERS, d) == b"nopqtuvwzABC"


def test_unstructured_selects_letters() -> None:
    d = DataDescriptor("", 52).make_unstructured_view(segments=[(3, 6), (15, 4), (27, 8)])
    assert d.size == 18
    assert select(LETTERS, d) == b"defghipqrsBCDEFGHI"


def test_alias_make_strided_view() -> None:
    d = DataDescriptor("loc", 52)
    a = d.make_strided_view(offset=13, num_blocks=3, block_size=4, gap_size=2)
    b = d.make_stride_view(offset=13, num_blocks=3, block_size=4, gap_size=2)
    assert a == b
    assert a.flatten() == b.flatten()


def test_sub_view_truncation() -> None:
    d = DataDescriptor("loc", 1024).make_sub_view(offset=900, size=200)
    assert d.size == 124
    assert d.flatten() == [(900, 124)]
    at_end = DataDescriptor("loc", 1024).make_sub_view(offset=1024, size=5)
    assert at_end.size == 0
    assert at_end.location == "loc"
    assert at_end.flatten() == []


def test_unstructured_merges_adjacent_segments() -> None:
    d = DataDescriptor("", 52).make_unstructured_view(segments=[(0, 2), (2, 3), (10, 2), (12, 1)])
    assert d.size == 8
    assert d.flatten() == [(0, 5), (10, 3)]
    # A view left with one segment is a sub view, like the reference.
    one = DataDescriptor("", 52).make_unstructured_view(segments=[(3, 2), (5, 4)])
    assert one == DataDescriptor("", 52).make_sub_view(offset=3, size=6)
    assert one.flatten() == [(3, 6)]


def test_strided_trailing_gap_not_counted() -> None:
    # Last block ends exactly at the end; the reference also counted the trailing gap and raised.
    d = DataDescriptor("", 10).make_stride_view(offset=0, num_blocks=2, block_size=2, gap_size=6)
    assert d.size == 4
    assert d.flatten() == [(0, 2), (8, 2)]


def test_adjacent_strided_blocks_not_merged() -> None:
    d = DataDescriptor("", 8).make_stride_view(offset=0, num_blocks=4, block_size=2, gap_size=0)
    assert d.flatten() == [(0, 2), (2, 2), (4, 2), (6, 2)]


@pytest.mark.parametrize(
    "make",
    [
        lambda d: d.make_sub_view(offset=10, size=0),
        lambda d: d.make_sub_view(offset=52, size=0),
        lambda d: d.make_stride_view(offset=5, num_blocks=0, block_size=4, gap_size=2),
        lambda d: d.make_stride_view(offset=5, num_blocks=3, block_size=0, gap_size=2),
        lambda d: d.make_unstructured_view(segments=[]),
        lambda d: d.make_unstructured_view(segments=[(4, 0), (9, 0)]),
    ],
    ids=["sub-size-0", "sub-at-end", "no-blocks", "block-size-0", "no-segments", "empty-segs"],
)
def test_zero_size_views_keep_location(make: Any) -> None:
    d = make(DataDescriptor("loc", 52))
    assert d.size == 0
    assert d.location == "loc"
    assert d.base_size == 52
    assert d.flatten() == []
    # Views of an empty view are empty too.
    assert d.make_sub_view(offset=0, size=10).flatten() == []


# --------------------------------------------------------------------------- composition (D3)


def test_stacked_sub_views_are_relative() -> None:
    d = DataDescriptor("", 100).make_sub_view(offset=10, size=50).make_sub_view(offset=5, size=10)
    assert d.size == 10
    assert d.flatten() == [(15, 10)]


def test_rectangle_example_in_range() -> None:
    width, height = 8, 6
    image = bytes(range(width * height))
    d = DataDescriptor("image", width * height)
    rect = d.make_sub_view(offset=1 * width + 2, size=width * 4).make_stride_view(
        offset=0, num_blocks=4, block_size=3, gap_size=width - 3
    )
    expected = b"".join(image[row * width + 2 : row * width + 5] for row in range(1, 5))
    assert rect.size == 12
    assert select(image, rect) == expected
    assert rect.flatten() == [(10, 3), (18, 3), (26, 3), (34, 3)]


def test_rectangle_example_bottom_right_relies_on_truncation() -> None:
    width, height = 8, 6
    image = bytes(range(width * height))
    x, y, w, h = 5, 2, 3, 4  # the sub view W*h runs 5 bytes past the end: truncated
    rect = (
        DataDescriptor("image", width * height)
        .make_sub_view(offset=y * width + x, size=width * h)
        .make_stride_view(offset=0, num_blocks=h, block_size=w, gap_size=width - w)
    )
    expected = b"".join(image[row * width + x : row * width + x + w] for row in range(y, y + h))
    assert select(image, rect) == expected


@st.composite
def rectangles(draw: st.DrawFn) -> tuple[int, int, int, int, int, int]:
    """(W, H, x, y, w, h): a non-empty w x h rectangle at (x, y) inside a W x H image."""
    width = draw(st.integers(1, 12))
    height = draw(st.integers(1, 12))
    x = draw(st.integers(0, width - 1))
    y = draw(st.integers(0, height - 1))
    return width, height, x, y, draw(st.integers(1, width - x)), draw(st.integers(1, height - y))


@given(rectangles())
@example((8, 6, 2, 1, 3, 4))
@example((8, 6, 5, 2, 3, 4))
@example((5, 5, 0, 0, 5, 5))
def test_rectangle_property(case: tuple[int, int, int, int, int, int]) -> None:
    width, height, x, y, w, h = case
    image = bytes(range(width * height))
    rect = (
        DataDescriptor("image", width * height)
        .make_sub_view(offset=y * width + x, size=width * h)
        .make_stride_view(offset=0, num_blocks=h, block_size=w, gap_size=width - w)
    )
    expected = b"".join(image[row * width + x : row * width + x + w] for row in range(y, y + h))
    assert rect.size == w * h
    assert select(image, rect) == expected


@given(stacks())
@example((100, [Sub(10, 50), Sub(5, 10)]))
@example((52, [Strided(13, 3, 4, 2), Sub(2, 5)]))
@example((52, [Unstructured(((3, 6), (15, 4), (27, 8))), Strided(1, 3, 2, 4)]))
@example((20, [Strided(0, 5, 2, 2), Unstructured(((1, 2), (3, 3), (8, 1)))]))
@example((10, [Sub(3, 0), Sub(0, 0)]))
@example((0, [Unstructured(()), Strided(0, 0, 0, 0)]))
def test_flatten_matches_step_by_step_application(case: tuple[int, list[View]]) -> None:
    base_size, views = case
    data = bytes(range(base_size))
    d = build(DataDescriptor("loc", base_size), views)
    expected = apply_all(data, views)
    assert select(data, d) == expected
    assert d.size == len(expected)
    flat = d.flatten()
    assert sum(s for _, s in flat) == d.size
    assert all(s > 0 and 0 <= o and o + s <= base_size for o, s in flat)
    assert d.location == "loc"
    assert d.base_size == base_size
    assert d.flatten() == flat  # cached result is not shared/mutated
    flat.append((0, 1))
    assert d.flatten() != flat


@given(stacks(min_views=1, max_views=1))
@example((52, [Strided(13, 3, 4, 2)]))
@example((52, [Unstructured(((3, 6), (15, 4), (27, 8)))]))
@example((1024, [Sub(900, 200)]))
def test_single_level_matches_reference_flatten(case: tuple[int, list[View]]) -> None:
    base_size, (view,) = case
    d = view.make(DataDescriptor("loc", base_size))
    if d.size == 0:
        # The reference returned DataDescriptor(); we keep the location and flatten to [].
        assert d.flatten() == []
    else:
        assert d.flatten() == reference_single_level_flatten(base_size, view)


# --------------------------------------------------------------------------- errors


def test_offset_past_end_gives_the_empty_descriptor() -> None:
    d = DataDescriptor("loc", 100).make_sub_view(offset=10, size=50)
    assert d.make_sub_view(offset=51, size=1) == DataDescriptor()
    assert d.make_stride_view(offset=51, num_blocks=1, block_size=1, gap_size=0) == DataDescriptor()
    # At the end exactly: an empty view that keeps the location (the reference truncates to 0).
    at_end = d.make_sub_view(offset=50, size=1)
    assert (at_end.size, at_end.location, at_end.flatten()) == (0, "loc", [])


def test_strided_errors() -> None:
    d = DataDescriptor("loc", 1024)
    with pytest.raises(DiasporaException, match=r"ends at 1088.*must be <= 1024"):
        d.make_stride_view(offset=0, num_blocks=4, block_size=128, gap_size=192)
    assert d.make_stride_view(offset=1025, num_blocks=0, block_size=1, gap_size=0) == (
        DataDescriptor()
    )
    with pytest.raises(DiasporaException, match="out of bounds"):
        d.make_stride_view(offset=1, num_blocks=1, block_size=1024, gap_size=0)
    # Relative to the current selection, not the base.
    sub = d.make_sub_view(offset=0, size=10)
    with pytest.raises(DiasporaException, match="out of bounds"):
        sub.make_stride_view(offset=0, num_blocks=2, block_size=5, gap_size=1)


def test_unstructured_errors() -> None:
    d = DataDescriptor("loc", 52)
    with pytest.raises(DiasporaException, match="overlapping or out of order"):
        d.make_unstructured_view(segments=[(10, 2), (5, 2)])
    with pytest.raises(DiasporaException, match="overlapping or out of order"):
        d.make_unstructured_view(segments=[(10, 5), (14, 2)])
    with pytest.raises(DiasporaException, match=r"out of bounds.*ends at 53"):
        d.make_unstructured_view(segments=[(50, 3)])
    with pytest.raises(DiasporaException, match="out of bounds"):
        d.make_unstructured_view(segments=[(60, 0)])
    # Bounds are those of the current selection.
    with pytest.raises(DiasporaException, match="out of bounds"):
        d.make_sub_view(offset=0, size=10).make_unstructured_view(segments=[(5, 6)])


@pytest.mark.parametrize(
    "make",
    [
        lambda d: d.make_sub_view(offset=-1, size=2),
        lambda d: d.make_sub_view(offset=1, size=-2),
        lambda d: d.make_stride_view(offset=-1, num_blocks=1, block_size=1, gap_size=0),
        lambda d: d.make_stride_view(offset=0, num_blocks=-1, block_size=1, gap_size=0),
        lambda d: d.make_stride_view(offset=0, num_blocks=1, block_size=-1, gap_size=0),
        lambda d: d.make_stride_view(offset=0, num_blocks=2, block_size=2, gap_size=-1),
        lambda d: d.make_unstructured_view(segments=[(-1, 2)]),
        lambda d: d.make_unstructured_view(segments=[(1, -2)]),
    ],
)
def test_negative_numbers_raise(make: Any) -> None:
    with pytest.raises(DiasporaException, match=">= 0"):
        make(DataDescriptor("loc", 52))


def test_wrong_types_raise_type_error() -> None:
    with pytest.raises(TypeError):
        DataDescriptor("loc", -1)
    with pytest.raises(TypeError):
        DataDescriptor(3, 10)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        DataDescriptor("loc", 1.5)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        DataDescriptor("loc")  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        DataDescriptor(location="loc", size=3)  # type: ignore[call-overload]
    d = DataDescriptor("loc", 52)
    with pytest.raises(TypeError):
        d.make_sub_view(10, 5)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        d.make_sub_view(offset="1", size=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        d.make_unstructured_view(segments=[(1, 2, 3)])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        d.make_unstructured_view(segments=5)  # type: ignore[arg-type]


def test_numpy_style_integers_accepted() -> None:
    class Index:
        def __index__(self) -> int:
            return 7

    d = DataDescriptor("loc", Index()).make_sub_view(offset=Index(), size=Index())  # type: ignore[call-overload]
    assert d.size == 0
    assert DataDescriptor("loc", Index()).size == 7  # type: ignore[call-overload]


def test_views_do_not_modify_parent() -> None:
    d = DataDescriptor("loc", 52)
    d.make_sub_view(offset=1, size=2)
    d.make_unstructured_view(segments=[(1, 2), (5, 2)])
    assert d == DataDescriptor("loc", 52)
    assert d.size == 52
    assert d.flatten() == [(0, 52)]


# --------------------------------------------------------------------------- value semantics


def test_equality_hash_and_repr() -> None:
    a = DataDescriptor("loc", 52).make_sub_view(offset=1, size=20)
    b = DataDescriptor("loc", 52).make_sub_view(offset=1, size=20)
    c = DataDescriptor("loc", 52).make_sub_view(offset=2, size=20)
    assert a == b
    assert hash(a) == hash(b)
    assert a != c
    assert a != DataDescriptor("other", 52).make_sub_view(offset=1, size=20)
    assert a != "not a descriptor"
    assert len({a, b, c}) == 2
    assert repr(a) == "DataDescriptor('loc', 52).make_sub_view(offset=1, size=20)"
    assert copy.copy(a) is a
    assert copy.deepcopy(a) is a


@given(stacks(min_views=0))
def test_repr_evaluates_back(case: tuple[int, list[View]]) -> None:
    base_size, views = case
    d = build(DataDescriptor("loc", base_size), views)
    assert eval(repr(d), {"DataDescriptor": DataDescriptor}) == d


# --------------------------------------------------------------------------- serialization


def test_to_bytes_layout() -> None:
    q = struct.Struct("<Q").pack
    d = DataDescriptor("ab", 1024).make_sub_view(offset=100, size=200)
    assert d.to_bytes() == q(200) + q(1024) + q(2) + b"ab" + q(1) + b"\x01" + q(100) + q(200)
    s = DataDescriptor("", 52).make_stride_view(offset=13, num_blocks=3, block_size=4, gap_size=2)
    assert s.to_bytes() == (q(12) + q(52) + q(0) + q(1) + b"\x02" + q(13) + q(3) + q(4) + q(2))
    u = DataDescriptor("", 52).make_unstructured_view(segments=[(3, 6), (15, 4)])
    assert u.to_bytes() == (
        q(10) + q(52) + q(0) + q(1) + b"\x03" + q(2) + q(3) + q(6) + q(15) + q(4)
    )
    assert DataDescriptor().to_bytes() == q(0) * 4


locations = st.text(max_size=10)


@given(stacks(min_views=0), locations)
@example((1024, [Sub(100, 200)]), "test_location")
@example((0, []), "")
def test_bytes_round_trip(case: tuple[int, list[View]], location: str) -> None:
    base_size, views = case
    d = build(DataDescriptor(location, base_size), views)
    raw = d.to_bytes()
    back = DataDescriptor.from_bytes(raw)
    assert back == d
    assert back.size == d.size
    assert back.flatten() == d.flatten()
    assert DataDescriptor.from_bytes(bytearray(raw)) == d
    assert DataDescriptor.from_bytes(memoryview(raw)) == d


@given(stacks(min_views=0), locations)
@example((52, [Unstructured(((3, 6), (15, 4), (27, 8)))]), "loc")
def test_pickle_round_trip(case: tuple[int, list[View]], location: str) -> None:
    base_size, views = case
    d = build(DataDescriptor(location, base_size), views)
    d.flatten()  # fill the cache: it must not break pickling
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(d, protocol=protocol))
        assert back == d
        assert back.size == d.size
        assert back.flatten() == d.flatten()


def test_from_bytes_truncated_raises() -> None:
    d = (
        DataDescriptor("loc", 52)
        .make_unstructured_view(segments=[(3, 6), (15, 4), (27, 8)])
        .make_sub_view(offset=1, size=5)
        .make_stride_view(offset=0, num_blocks=2, block_size=1, gap_size=1)
    )
    raw = d.to_bytes()
    assert DataDescriptor.from_bytes(raw) == d
    for cut in range(len(raw)):
        with pytest.raises(DiasporaException, match="truncated"):
            DataDescriptor.from_bytes(raw[:cut])


def test_from_bytes_invalid_raises() -> None:
    q = struct.Struct("<Q").pack
    good = DataDescriptor("", 52).make_sub_view(offset=1, size=2).to_bytes()
    with pytest.raises(DiasporaException, match="trailing"):
        DataDescriptor.from_bytes(good + b"\x00")
    with pytest.raises(DiasporaException, match="unknown tag 7"):
        DataDescriptor.from_bytes(q(2) + q(52) + q(0) + q(1) + b"\x07")
    with pytest.raises(DiasporaException, match="stored size 3"):
        DataDescriptor.from_bytes(q(3) + q(52) + q(0) + q(1) + b"\x01" + q(1) + q(2))
    with pytest.raises(DiasporaException, match="offset 60"):
        DataDescriptor.from_bytes(q(2) + q(52) + q(0) + q(1) + b"\x01" + q(60) + q(2))
    with pytest.raises(DiasporaException, match="truncated"):
        DataDescriptor.from_bytes(q(0) + q(52) + q(0) + q(1) + b"\x03" + q(2**40))
    with pytest.raises(TypeError):
        DataDescriptor.from_bytes("text")  # type: ignore[arg-type]
