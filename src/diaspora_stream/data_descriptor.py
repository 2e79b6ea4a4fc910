"""``DataDescriptor``: where an event's data lives, and which part of it a consumer wants.

A :class:`DataDescriptor` names some data stored by a backend (an opaque ``location`` string and
the ``base_size`` of the data) together with a stack of *selections* (views) narrowing it down.
Consumers use the views to fetch only the bytes they need; :meth:`DataDescriptor.flatten` turns
the stack into the ``(offset, size)`` pieces of the base data to read.

Differences from the C++ reference (deviation D3 of the design):

* Stacked views compose **relatively**: the offsets of a view are expressed in the coordinates
  of the descriptor it is made from, i.e. in the bytes that descriptor selects, concatenated in
  order. The documentation's rectangle example therefore works for any position::

      rect = image.make_sub_view(offset=y * W + x, size=W * h).make_stride_view(
          offset=0, num_blocks=h, block_size=w, gap_size=W - w
      )

  A single view made from an unselected descriptor behaves exactly like the reference.
* Out-of-range views behave exactly like the reference's: a sub view or a strided view whose
  offset is past the end of the selection is a brand-new empty descriptor (``DataDescriptor()``:
  location ``""``, size 0), and a sub view's size is truncated to what remains; strided and
  unstructured views whose blocks or segments end past it raise
  :class:`~diaspora_stream.exceptions.Exception`. A strided view is checked up to the end of its
  last block (the reference also counted the gap after it, refusing views that fit).
* Views that select nothing (size 0, no blocks, no segments) keep the location, and flatten to
  ``[]``.
* Descriptors are immutable values: they compare equal, hash, pickle, and serialize to the
  reference's archive layout with :meth:`DataDescriptor.to_bytes` /
  :meth:`DataDescriptor.from_bytes`.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple, overload

from .exceptions import Exception as DiasporaException
from .exceptions import InvalidArgument

__all__ = ["DataDescriptor"]

_SIZE_MAX = 2**64 - 1
_U64 = struct.Struct("<Q")
_U8 = struct.Struct("<B")

_TAG_CONTIGUOUS = 1
_TAG_STRIDED = 2
_TAG_UNSTRUCTURED = 3


class _Contiguous(NamedTuple):
    """Sub view: ``size`` bytes from ``offset`` (the size is already truncated to what fits)."""

    offset: int
    size: int


class _Strided(NamedTuple):
    """Strided view: block *i* covers ``[offset + i*(block_size+gap_size), +block_size)``."""

    offset: int
    num_blocks: int
    block_size: int
    gap_size: int


class _Unstructured(NamedTuple):
    """Unstructured view: sorted, non-overlapping, non-empty, non-adjacent segments."""

    segments: tuple[tuple[int, int], ...]


_Selection = _Contiguous | _Strided | _Unstructured
_Pieces = tuple[tuple[int, int], ...]


def _check_int(value: object, what: str) -> int:
    """Return ``value`` as an ``int`` in ``[0, 2**64)``, or raise :class:`InvalidArgument`.

    ``InvalidArgument`` is both the package's ``Exception`` and a ``TypeError`` (what the C++
    binding raises when a value does not convert to ``size_t``).
    """
    if isinstance(value, bool):
        raise InvalidArgument(f"{what} must be an integer, not bool ({value!r})")
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidArgument(
            f"{what} must be an integer, not {type(value).__name__} ({value!r})"
        ) from None
    if number < 0:
        raise InvalidArgument(f"{what} must be >= 0, got {number}")
    if number > _SIZE_MAX:
        raise InvalidArgument(f"{what} must be < 2**64, got {number}")
    return number


def _ranges(selection: _Selection) -> Iterator[tuple[int, int]]:
    """Yield the non-empty ``(offset, size)`` ranges a selection picks, in increasing order."""
    if isinstance(selection, _Contiguous):
        if selection.size:
            yield selection.offset, selection.size
    elif isinstance(selection, _Strided):
        if selection.block_size:
            stride = selection.block_size + selection.gap_size
            block = selection.block_size
            for start in range(
                selection.offset, selection.offset + selection.num_blocks * stride, stride
            ):
                yield start, block
    else:
        yield from selection.segments


def _apply(pieces: _Pieces, selection: _Selection) -> _Pieces:
    """Map a selection, in the coordinates of ``pieces`` (concatenated), to base coordinates.

    ``pieces`` holds no empty piece; the selection's ranges are in increasing order and lie
    within the total size of ``pieces`` (the ``make_*`` methods check this).
    """
    if len(pieces) == 1 and pieces[0][0] == 0:
        # First level: coordinates are already base coordinates.
        return tuple(_ranges(selection))
    out: list[tuple[int, int]] = []
    index = 0
    piece_offset, piece_size = pieces[0]
    piece_start = 0  # position of the current piece in the selection's coordinates
    for start, length in _ranges(selection):
        while piece_start + piece_size <= start:
            piece_start += piece_size
            index += 1
            piece_offset, piece_size = pieces[index]
        while length:
            within = start - piece_start
            take = min(length, piece_size - within)
            out.append((piece_offset + within, take))
            start += take
            length -= take
            if length:
                piece_start += piece_size
                index += 1
                piece_offset, piece_size = pieces[index]
    return tuple(out)


class DataDescriptor:
    """Location and selected part of an event's data.

    ``DataDescriptor()`` is the empty descriptor (``location == ""``, ``size == 0``);
    ``DataDescriptor(location, size)`` describes ``size`` bytes at a backend-defined
    ``location``. Both arguments are positional-only.

    Descriptors are immutable: the ``make_*`` methods return new descriptors. Each view is
    expressed in the coordinates of the descriptor it is made from (see the module docstring).
    """

    __slots__ = ("__weakref__", "_base_size", "_flat", "_location", "_selections", "_size")

    _location: str
    _base_size: int
    _size: int
    _selections: tuple[_Selection, ...]
    _flat: _Pieces | None

    @overload
    def __init__(self) -> None: ...

    @overload
    def __init__(self, location: str, size: int, /) -> None: ...

    def __init__(self, *args: object) -> None:
        if not args:
            location: object = ""
            size: object = 0
        elif len(args) == 2:
            location, size = args
        else:
            raise InvalidArgument(
                "DataDescriptor() takes either no argument or two positional arguments "
                f"(location: str, size: int), got {len(args)}"
            )
        if not isinstance(location, str):
            raise InvalidArgument(
                f"DataDescriptor location must be a str, not {type(location).__name__}"
            )
        base_size = _check_int(size, "DataDescriptor size")
        self._location = location
        self._base_size = base_size
        self._size = base_size
        self._selections = ()
        self._flat = None

    def _derive(self, selection: _Selection, size: int) -> DataDescriptor:
        """Return a copy of ``self`` with ``selection`` pushed and the selection size ``size``."""
        cls = type(self)
        new = cls.__new__(cls)
        new._location = self._location
        new._base_size = self._base_size
        new._size = size
        new._selections = (*self._selections, selection)
        new._flat = None
        return new

    # ------------------------------------------------------------------ properties

    @property
    def location(self) -> str:
        """Opaque, backend-defined location of the data (``""`` for the files backend)."""
        return self._location

    @property
    def size(self) -> int:
        """Number of bytes the descriptor selects (the base size if there is no view)."""
        return self._size

    @property
    def base_size(self) -> int:
        """Size of the underlying data, before any view."""
        return self._base_size

    # ------------------------------------------------------------------ views

    def make_sub_view(self, *, offset: int, size: int) -> DataDescriptor:
        """Select ``size`` bytes starting at ``offset`` of this descriptor's selection.

        Like the reference: ``size`` is silently truncated to what remains after ``offset``, and
        an ``offset`` past the end of the selection gives ``DataDescriptor()`` (empty, without
        location). ``size == 0`` gives an empty view that keeps the location.

        :raises InvalidArgument: if a number is negative or not an integer.
        """
        offset = _check_int(offset, "make_sub_view offset")
        size = _check_int(size, "make_sub_view size")
        current = self._size
        if offset > current:
            return type(self)()
        size = min(size, current - offset)
        return self._derive(_Contiguous(offset, size), size)

    def make_stride_view(
        self, *, offset: int, num_blocks: int, block_size: int, gap_size: int
    ) -> DataDescriptor:
        """Select ``num_blocks`` blocks of ``block_size`` bytes, ``gap_size`` bytes apart.

        Block *i* covers ``[offset + i*(block_size+gap_size), +block_size)`` of this
        descriptor's selection; the result has size ``num_blocks * block_size``. The last block
        must end within the selection (the gap after it is not counted). ``num_blocks == 0`` or
        ``block_size == 0`` gives an empty view. Like the reference, an ``offset`` past the end
        of the selection gives ``DataDescriptor()`` (empty, without location).

        :raises Exception: if the last block ends past the selection, or a number is negative.
        """
        offset = _check_int(offset, "make_stride_view offset")
        num_blocks = _check_int(num_blocks, "make_stride_view num_blocks")
        block_size = _check_int(block_size, "make_stride_view block_size")
        gap_size = _check_int(gap_size, "make_stride_view gap_size")
        current = self._size
        if offset > current:
            return type(self)()
        if num_blocks:
            end = offset + (num_blocks - 1) * (block_size + gap_size) + block_size
            if end > current:
                raise DiasporaException(
                    f"Invalid strided view: would go out of bounds: the last block ends at {end} "
                    f"(offset {offset} + ({num_blocks} - 1) * (block_size {block_size} + "
                    f"gap_size {gap_size}) + block_size {block_size}) but the data size is "
                    f"{current}; offset + (num_blocks - 1) * (block_size + gap_size) + "
                    f"block_size must be <= {current}"
                )
        return self._derive(
            _Strided(offset, num_blocks, block_size, gap_size), num_blocks * block_size
        )

    #: Alias of :meth:`make_stride_view` (the name the reference documentation uses).
    make_strided_view = make_stride_view

    def make_unstructured_view(self, *, segments: Iterable[tuple[int, int]]) -> DataDescriptor:
        """Select a list of ``(offset, size)`` segments of this descriptor's selection.

        Segments must be sorted by offset, must not overlap, and must end within the selection.
        Adjacent segments are merged, empty ones dropped; a view left with a single segment is
        a sub view (like the reference). An empty list gives an empty view.

        :raises Exception: if segments overlap, are out of order, or go out of bounds, or a
            number is negative.
        """
        if isinstance(segments, (str, bytes, bytearray, memoryview)) or not isinstance(
            segments, Iterable
        ):
            raise InvalidArgument(
                "make_unstructured_view segments must be a list of (offset, size) pairs, not "
                f"{type(segments).__name__}"
            )
        current = self._size
        merged: list[tuple[int, int]] = []
        view_size = 0
        current_offset = 0
        for index, segment in enumerate(segments):
            try:
                raw_offset, raw_size = segment
            except (TypeError, ValueError):
                raise InvalidArgument(
                    f"make_unstructured_view segment {index} must be an (offset, size) pair, "
                    f"got {segment!r}"
                ) from None
            offset = _check_int(raw_offset, f"make_unstructured_view segment {index} offset")
            size = _check_int(raw_size, f"make_unstructured_view segment {index} size")
            if offset < current_offset:
                raise DiasporaException(
                    "Invalid unstructured view: segments overlapping or out of order: "
                    f"segment {index} (offset {offset}, size {size}) starts before the end of "
                    f"the previous segment ({current_offset}); segments must be sorted by "
                    "offset and must not overlap"
                )
            if offset + size > current:
                raise DiasporaException(
                    "Invalid unstructured view: would go out of bounds: "
                    f"segment {index} (offset {offset}, size {size}) ends at {offset + size} "
                    f"but the data size is {current}; every segment must satisfy "
                    f"offset + size <= {current}"
                )
            current_offset = offset + size
            if not size:
                continue
            view_size += size
            if merged and merged[-1][0] + merged[-1][1] == offset:
                merged[-1] = (merged[-1][0], merged[-1][1] + size)
            else:
                merged.append((offset, size))
        if len(merged) == 1:
            return self._derive(_Contiguous(*merged[0]), view_size)
        return self._derive(_Unstructured(tuple(merged)), view_size)

    # ------------------------------------------------------------------ flatten

    def flatten(self) -> list[tuple[int, int]]:
        """Return the selected ``(offset, size)`` pieces of the base data, in selection order.

        Offsets are in base coordinates; empty pieces are dropped; adjacent pieces are not
        merged (except where a view merged its own segments). A descriptor without views
        returns ``[(0, base_size)]`` (``[(0, 0)]`` for ``DataDescriptor()``).
        """
        flat = self._flat
        if flat is None:
            if not self._selections:
                flat = ((0, self._base_size),)
            else:
                flat = ((0, self._base_size),) if self._base_size else ()
                for selection in self._selections:
                    if not flat:
                        break
                    flat = _apply(flat, selection)
            self._flat = flat
        return list(flat)

    # ------------------------------------------------------------------ value semantics

    def _key(self) -> tuple[str, int, tuple[_Selection, ...]]:
        return (self._location, self._base_size, self._selections)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataDescriptor):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        text = f"{type(self).__name__}({self._location!r}, {self._base_size})"
        for selection in self._selections:
            if isinstance(selection, _Contiguous):
                text += f".make_sub_view(offset={selection.offset}, size={selection.size})"
            elif isinstance(selection, _Strided):
                text += (
                    f".make_stride_view(offset={selection.offset}, "
                    f"num_blocks={selection.num_blocks}, block_size={selection.block_size}, "
                    f"gap_size={selection.gap_size})"
                )
            else:
                text += f".make_unstructured_view(segments={list(selection.segments)!r})"
        return text

    def __copy__(self) -> DataDescriptor:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> DataDescriptor:
        return self

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        specs = tuple(_spec(selection) for selection in self._selections)
        return (_restore, (type(self), self._location, self._base_size, specs))

    # ------------------------------------------------------------------ serialization

    def to_bytes(self) -> bytes:
        """Serialize in the reference's archive layout.

        8-byte little-endian unsigned integers: ``size``, ``base_size``, ``len(location)``, the
        location bytes (UTF-8), the number of views, then per view a ``uint8`` tag and its
        fields: ``1`` sub view (``offset``, ``size``), ``2`` strided view (``offset``,
        ``num_blocks``, ``block_size``, ``gap_size``), ``3`` unstructured view (``count`` then
        ``count`` x (``offset``, ``size``)).
        """
        try:
            location = self._location.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as error:
            raise DiasporaException(
                f"Cannot serialize DataDescriptor: location {self._location!r} is not "
                f"encodable as UTF-8 ({error.reason})"
            ) from None
        pack = _U64.pack
        parts = [
            pack(self._size),
            pack(self._base_size),
            pack(len(location)),
            location,
            pack(len(self._selections)),
        ]
        for selection in self._selections:
            if isinstance(selection, _Contiguous):
                parts.append(_U8.pack(_TAG_CONTIGUOUS))
            elif isinstance(selection, _Strided):
                parts.append(_U8.pack(_TAG_STRIDED))
            else:
                parts.append(_U8.pack(_TAG_UNSTRUCTURED))
                parts.append(pack(len(selection.segments)))
                for offset, size in selection.segments:
                    parts.append(pack(offset))
                    parts.append(pack(size))
                continue
            parts.extend(pack(field) for field in selection)
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> DataDescriptor:
        """Rebuild a descriptor serialized by :meth:`to_bytes` (or by the C++ reference).

        The views are replayed through the ``make_*`` methods, so they are checked.

        :raises Exception: if ``data`` is truncated, has trailing bytes, an unknown view tag,
            invalid views, or a stored size that does not match its views.
        """
        try:
            buffer = memoryview(data).cast("B")
        except TypeError:
            raise InvalidArgument(
                f"DataDescriptor.from_bytes expects a bytes-like object, not {type(data).__name__}"
            ) from None
        reader = _Reader(buffer)
        size = reader.u64("size")
        base_size = reader.u64("base_size")
        location_size = reader.u64("location length")
        location_bytes = reader.take(location_size, "location")
        location = location_bytes.decode("utf-8", "surrogateescape")
        num_selections = reader.u64("number of views")
        specs: list[tuple[Any, ...]] = []
        for index in range(num_selections):
            tag = reader.u8(f"tag of view {index}")
            if tag == _TAG_CONTIGUOUS:
                specs.append((tag, reader.u64("sub view offset"), reader.u64("sub view size")))
            elif tag == _TAG_STRIDED:
                fields = ("offset", "num_blocks", "block_size", "gap_size")
                specs.append((tag, *(reader.u64(f"strided view {name}") for name in fields)))
            elif tag == _TAG_UNSTRUCTURED:
                count = reader.u64("unstructured view segment count")
                reader.need(count * 16, f"{count} unstructured view segments")
                segments = tuple(
                    (reader.u64("segment offset"), reader.u64("segment size")) for _ in range(count)
                )
                specs.append((tag, segments))
            else:
                raise DiasporaException(
                    f"Invalid serialized DataDescriptor: view {index} has unknown tag {tag} "
                    "(expected 1 = sub, 2 = strided, 3 = unstructured)"
                )
        if reader.remaining:
            raise DiasporaException(
                f"Invalid serialized DataDescriptor: {reader.remaining} unexpected trailing byte(s)"
            )
        try:
            descriptor = _restore(cls, location, base_size, specs)
        except DiasporaException as error:
            raise DiasporaException(f"Invalid serialized DataDescriptor: {error}") from None
        if descriptor.size != size:
            raise DiasporaException(
                f"Invalid serialized DataDescriptor: stored size {size} does not match the size "
                f"{descriptor.size} of its views"
            )
        return descriptor


class _Reader:
    """Sequential reader of little-endian integers, raising the package ``Exception``."""

    __slots__ = ("_buffer", "_position")

    def __init__(self, buffer: memoryview) -> None:
        self._buffer = buffer
        self._position = 0

    @property
    def remaining(self) -> int:
        return len(self._buffer) - self._position

    def need(self, count: int, what: str) -> None:
        if count > self.remaining:
            raise DiasporaException(
                f"Invalid serialized DataDescriptor: truncated input: {what} needs {count} "
                f"byte(s) at position {self._position}, only {self.remaining} left"
            )

    def take(self, count: int, what: str) -> bytes:
        self.need(count, what)
        start = self._position
        self._position += count
        return bytes(self._buffer[start : self._position])

    def u64(self, what: str) -> int:
        self.need(8, what)
        (value,) = _U64.unpack_from(self._buffer, self._position)
        self._position += 8
        return int(value)

    def u8(self, what: str) -> int:
        self.need(1, what)
        value = self._buffer[self._position]
        self._position += 1
        return int(value)


def _spec(selection: _Selection) -> tuple[Any, ...]:
    """Return a view as a plain ``(tag, *fields)`` tuple (the archive's order)."""
    if isinstance(selection, _Contiguous):
        return (_TAG_CONTIGUOUS, *selection)
    if isinstance(selection, _Strided):
        return (_TAG_STRIDED, *selection)
    return (_TAG_UNSTRUCTURED, selection.segments)


def _restore(
    cls: type[DataDescriptor], location: str, base_size: int, specs: Iterable[tuple[Any, ...]]
) -> DataDescriptor:
    """Rebuild a descriptor by replaying its views (``(tag, *fields)`` tuples); checks them.

    Used by :meth:`DataDescriptor.from_bytes` and for unpickling.
    """
    descriptor = cls(location, base_size)
    for tag, *fields in specs:
        # make_* turn an offset past the end into DataDescriptor(); a stored view never has one.
        if tag in (_TAG_CONTIGUOUS, _TAG_STRIDED) and fields[0] > descriptor.size:
            raise DiasporaException(
                f"a view's offset {fields[0]} is past the end of the data it selects from "
                f"(size {descriptor.size})"
            )
        if tag == _TAG_CONTIGUOUS:
            offset, size = fields
            descriptor = descriptor.make_sub_view(offset=offset, size=size)
        elif tag == _TAG_STRIDED:
            offset, num_blocks, block_size, gap_size = fields
            descriptor = descriptor.make_stride_view(
                offset=offset, num_blocks=num_blocks, block_size=block_size, gap_size=gap_size
            )
        elif tag == _TAG_UNSTRUCTURED:
            (segments,) = fields
            descriptor = descriptor.make_unstructured_view(segments=segments)
        else:
            raise DiasporaException(f"unknown view tag {tag!r}")
    return descriptor
