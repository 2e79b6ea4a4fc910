"""Hypothesis strategies for the Diaspora Stream API (public: backends may reuse them).

* :func:`json_metadata`, :func:`json_values`, :func:`json_objects`: event metadata (any JSON
  value: unicode text including non-BMP characters, nesting, integers in ``[-2**63, 2**64-1]``,
  finite floats, booleans, ``None``; objects have string keys);
* :func:`event_data`: the data of an event as 0 to 4 segments (empty ones included, and rarely
  a large one of up to 1 MiB);
* :func:`data_views`: a stack of 1 to 3 data views (sub, strided, unstructured) valid for data
  of a given size; :func:`view_recipes` draws size-independent :class:`ViewRecipe` objects that
  give valid views for *any* size, and :class:`RecipeSelector` turns them into a data selector;
* :func:`topic_names`, :func:`consumer_names`.

Views are plain tuples, see :data:`diaspora_stream_conformance.model.ViewSpec`. Example::

    from hypothesis import given, strategies as st
    from diaspora_stream_conformance import strategies as ds

    @given(ds.json_metadata(), ds.event_data())
    def test_round_trip(metadata, segments):
        ...
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from diaspora_stream.api import DataDescriptor

from .model import ViewSpec

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "LARGE_SEGMENT_MAX",
    "RecipeSelector",
    "ViewRecipe",
    "consumer_names",
    "data_views",
    "event_data",
    "json_metadata",
    "json_objects",
    "json_text",
    "json_values",
    "segments_of",
    "topic_names",
    "view_recipes",
]

#: Smallest and largest JSON integers metadata may hold (int64 and uint64 ranges).
INT_MIN = -(2**63)
INT_MAX = 2**64 - 1
#: Largest size of the (rare) large data segments.
LARGE_SEGMENT_MAX = 1 << 20


# --------------------------------------------------------------------------- JSON


def json_text(max_size: int = 8) -> st.SearchStrategy[str]:
    """Unicode text without surrogates, often with characters outside the BMP."""
    alphabet = st.characters(codec="utf-8") | st.characters(
        min_codepoint=0x1F300, max_codepoint=0x1FAFF
    )
    return st.text(alphabet, max_size=max_size)


def _scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(-1000, 1000),
        json_text(),
        st.none(),
        st.booleans(),
        st.integers(INT_MIN, INT_MAX),
        st.floats(allow_nan=False, allow_infinity=False),
    )


def json_values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Any JSON value: scalars, arrays and objects (string keys), nested."""
    return st.recursive(
        _scalars(),
        lambda children: st.one_of(
            st.dictionaries(json_text(), children, max_size=4),
            st.lists(children, max_size=4),
        ),
        max_leaves=max_leaves,
    )


def json_objects(max_leaves: int = 8) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object whose values are any JSON values."""
    return st.dictionaries(json_text(), json_values(max_leaves // 2), max_size=4)


def json_metadata(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Event metadata: usually a JSON object, sometimes any other JSON value."""
    return st.one_of(json_objects(max_leaves), json_values(max_leaves))


# --------------------------------------------------------------------------- data


@st.composite
def _segment(draw: st.DrawFn) -> bytes:
    # Rarely (about 1 segment in 60) a large segment, built from a short repeated pattern.
    if draw(st.integers(0, 63)) == 63:
        pattern = draw(st.binary(min_size=1, max_size=8))
        size = draw(st.integers(4096, LARGE_SEGMENT_MAX))
        return (pattern * (size // len(pattern) + 1))[:size]
    return draw(st.binary(max_size=24))


def event_data(max_segments: int = 4) -> st.SearchStrategy[list[bytes]]:
    """The data of an event: a list of 0 to ``max_segments`` byte strings (some empty, rarely
    one of up to :data:`LARGE_SEGMENT_MAX` bytes)."""
    return st.lists(_segment(), max_size=max_segments)


def segments_of(data: list[bytes]) -> bytes:
    """The data an event carries: its segments joined."""
    return b"".join(data)


# --------------------------------------------------------------------------- data views


def _pick(raw: int, highest: int) -> int:
    """Map a raw draw to ``[0, highest]``."""
    return raw % (highest + 1) if highest > 0 else 0


@dataclass(frozen=True)
class ViewRecipe:
    """A size-independent recipe for a stack of views: :meth:`resolve` turns it into views
    valid for data of any size (raw numbers are folded into the valid ranges).

    ``steps`` holds ``(kind, raw numbers)`` pairs, ``kind`` being ``"sub"``, ``"strided"`` or
    ``"unstructured"``.
    """

    steps: tuple[tuple[str, tuple[int, ...]], ...]

    def resolve(self, size: int) -> list[ViewSpec]:
        """The views this recipe gives for ``size`` bytes of data (each relative to the
        previous one); every view is valid for the size the previous one selects."""
        views: list[ViewSpec] = []
        current = size
        for kind, raw in self.steps:
            if kind == "sub":
                offset = _pick(raw[0], current)
                length = _pick(raw[1], current - offset + 2)  # may exceed: truncated
                views.append(("sub", offset, length))
                current = min(length, current - offset)
            elif kind == "strided":
                offset = _pick(raw[0], current)
                room = current - offset
                block = _pick(raw[1], room)
                most_blocks = min(64, (room - block) // block + 1 if block else 4)
                blocks = _pick(raw[2], most_blocks)
                if blocks > 1:
                    gap = _pick(raw[3], (room - block) // (blocks - 1) - block)
                else:
                    gap = _pick(raw[3], 3)
                views.append(("strided", offset, blocks, block, gap))
                current = blocks * block
            else:
                points = sorted(_pick(value, current) for value in raw)
                segments = tuple(
                    (points[i], points[i + 1] - points[i]) for i in range(0, len(points) - 1, 2)
                )
                views.append(("unstructured", segments))
                current = sum(length for _, length in segments)
        return views

    def apply(self, descriptor: DataDescriptor) -> DataDescriptor:
        """Apply the views for ``descriptor.size`` with the ``make_*`` methods."""
        for index, view in enumerate(self.resolve(descriptor.size)):
            if view[0] == "sub":
                descriptor = descriptor.make_sub_view(offset=view[1], size=view[2])
            elif view[0] == "strided":
                # Alternate between the method and its documented alias.
                make = descriptor.make_stride_view if index % 2 else descriptor.make_strided_view
                descriptor = make(
                    offset=view[1], num_blocks=view[2], block_size=view[3], gap_size=view[4]
                )
            else:
                descriptor = descriptor.make_unstructured_view(segments=list(view[1]))
        return descriptor


_RAW = st.integers(0, 2**16)


def _recipe_step() -> st.SearchStrategy[tuple[str, tuple[int, ...]]]:
    return st.one_of(
        st.tuples(st.just("sub"), st.tuples(_RAW, _RAW)),
        st.tuples(st.just("strided"), st.tuples(_RAW, _RAW, _RAW, _RAW)),
        st.tuples(
            st.just("unstructured"),
            st.integers(0, 4).flatmap(lambda n: st.tuples(*[_RAW] * (2 * n))),
        ),
    )


def view_recipes(max_depth: int = 3) -> st.SearchStrategy[ViewRecipe]:
    """A :class:`ViewRecipe` of 1 to ``max_depth`` stacked views."""
    return st.lists(_recipe_step(), min_size=1, max_size=max_depth).map(
        lambda steps: ViewRecipe(tuple(steps))
    )


def data_views(size: int, max_depth: int = 3) -> st.SearchStrategy[list[ViewSpec]]:
    """A stack of 1 to ``max_depth`` views valid for ``size`` bytes (each relative to the
    previous one): sub views (sometimes with a size to truncate), strided views and unstructured
    views (sorted segments, empty and adjacent ones included)."""
    return view_recipes(max_depth).map(lambda recipe: recipe.resolve(size))


class RecipeSelector:
    """A data selector applying ``recipes[size % len(recipes)]`` to each event's data.

    Deterministic (it depends only on the data size), so a model can predict its selection
    whenever and however often a backend calls it.
    """

    def __init__(self, recipes: list[ViewRecipe]) -> None:
        """Select with ``recipes`` (at least one)."""
        if not recipes:
            raise ValueError("RecipeSelector needs at least one ViewRecipe")
        self.recipes = list(recipes)

    def recipe_for(self, size: int) -> ViewRecipe:
        """The recipe used for data of ``size`` bytes."""
        return self.recipes[size % len(self.recipes)]

    def __call__(self, metadata: Any, descriptor: DataDescriptor) -> DataDescriptor:
        """Return the views of the recipe chosen for ``descriptor.size``."""
        return self.recipe_for(descriptor.size).apply(descriptor)

    def __repr__(self) -> str:
        return f"RecipeSelector({self.recipes!r})"


# --------------------------------------------------------------------------- names

_TOPIC_ALPHABET = string.ascii_letters + string.digits + "._-"


def topic_names(max_size: int = 30) -> st.SearchStrategy[str]:
    """Topic names every backend accepts: ASCII letters, digits, ``.``, ``_`` and ``-`` (the
    Kafka topic alphabet), not ``.`` or ``..``."""
    return st.text(_TOPIC_ALPHABET, min_size=1, max_size=max_size).filter(
        lambda name: name not in (".", "..")
    )


def consumer_names(max_size: int = 12) -> st.SearchStrategy[str]:
    """Consumer names: non-empty unicode text (``/``, inner spaces, dots and non-BMP
    characters included).

    Names a backend may refuse (a NUL, surrounding whitespace: a Kafka group id cannot keep
    them) are left out: the rule that such a name is refused with ``Exception`` or kept
    exactly, never folded, is :class:`~diaspora_stream_conformance.rules.names.NameRules`'.
    """
    return (
        json_text(max_size)
        .filter(lambda name: bool(name) and name == name.strip())
        .filter(lambda name: "\0" not in name)
    )
