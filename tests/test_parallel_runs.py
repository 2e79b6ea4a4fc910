"""How a parallel run orders its tests: every test marked ``slow`` is at the head of one of
the contiguous shares that xdist's work stealing hands out first, and nothing is lost."""

from __future__ import annotations

from dataclasses import dataclass

import parallel_runs
import pytest


@dataclass(eq=False)
class FakeItem:
    """What the ordering reads of a test item: its ``slow`` marker."""

    name: str
    slow: bool = False

    def get_closest_marker(self, name: str) -> object | None:
        return object() if name == "slow" and self.slow else None


def _items(count: int, slow_at: set[int]) -> list[FakeItem]:
    return [FakeItem(f"t{i}", i in slow_at) for i in range(count)]


def _shares(count: int, workers: int) -> list[tuple[int, int]]:
    """The ``(start, size)`` of each first share, as the work-stealing scheduler cuts them."""
    shares, start, remaining = [], 0, count
    for index in range(workers):
        size = remaining // (workers - index)
        shares.append((start, size))
        start, remaining = start + size, remaining - size
    return shares


@pytest.mark.parametrize(("count", "workers"), [(100, 4), (37, 8), (10, 3), (9, 2)])
def test_slow_tests_head_the_shares(
    monkeypatch: pytest.MonkeyPatch, count: int, workers: int
) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", str(workers))
    items = _items(count, {count - 1, count - 2, count // 2, 3, 4})
    before = list(items)
    parallel_runs.start_slow_tests_first(items)  # type: ignore[arg-type]
    assert sorted(items, key=before.index) == before, "a test was lost or repeated"
    heads = []
    for start, size in _shares(count, workers):
        share = items[start : start + size]
        slow = [item for item in share if item.slow]
        assert share[: len(slow)] == slow, "a slow test waits behind a quick one in its share"
        heads.append(len(slow))
    assert sum(heads) == sum(item.slow for item in before)
    assert max(heads) - min(heads) <= 1, f"slow tests not spread over the shares: {heads}"
    quick = [item for item in items if not item.slow]
    assert quick == [item for item in before if not item.slow], "the other tests moved"


def test_serial_runs_keep_the_collection_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    items = _items(20, {5, 19})
    before = list(items)
    parallel_runs.start_slow_tests_first(items)  # type: ignore[arg-type]
    assert items == before
