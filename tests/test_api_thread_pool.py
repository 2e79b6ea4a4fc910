"""Thread pools (the reference's PosixThreadPoolTest, reference-api.md §3.9 and §9.2)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from diaspora_stream.api import Driver, ThreadPool
from diaspora_stream.thread_pool import MAX_PRIORITY


@pytest.fixture
def make_pool() -> Callable[[int], ThreadPool]:
    driver = Driver(backend="memory")
    pools: list[ThreadPool] = []

    def make(count: int) -> ThreadPool:
        pool = driver.make_thread_pool(count)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.shutdown(wait=True)


def _wait_for(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.002)
    return predicate()


class Counter:
    def __init__(self) -> None:
        self.value = 0
        self.lock = threading.Lock()

    def add(self, amount: int = 1) -> None:
        with self.lock:
            self.value += amount


def test_zero_threads_runs_synchronously(make_pool: Callable[[int], ThreadPool]) -> None:
    pool = make_pool(0)
    assert pool.thread_count == 0
    assert pool.size == 0
    counter = Counter()
    caller = threading.get_ident()
    ran_in: list[int] = []
    pool.push_work(lambda: (counter.add(), ran_in.append(threading.get_ident())))
    assert counter.value == 1
    assert ran_in == [caller]
    assert pool.size == 0


@pytest.mark.parametrize("count", [1, 4])
def test_thread_count(make_pool: Callable[[int], ThreadPool], count: int) -> None:
    pool = make_pool(count)
    assert pool.thread_count == count
    assert pool.size == 0


def test_single_work_item(make_pool: Callable[[int], ThreadPool]) -> None:
    pool = make_pool(2)
    done = threading.Event()
    caller = threading.get_ident()
    ran_in: list[int] = []
    pool.push_work(lambda: (ran_in.append(threading.get_ident()), done.set()))
    assert done.wait(2)
    assert ran_in != [caller]


def test_many_items(make_pool: Callable[[int], ThreadPool]) -> None:
    pool = make_pool(4)
    counter = Counter()
    for _ in range(100):
        pool.push_work(counter.add)
    assert _wait_for(lambda: counter.value == 100, 5)


def test_shared_sum(make_pool: Callable[[int], ThreadPool]) -> None:
    pool = make_pool(2)
    counter = Counter()
    for amount in range(1, 6):
        pool.push_work(lambda amount=amount: counter.add(amount))
    assert _wait_for(lambda: counter.value == 15, 2)


def test_priorities_all_execute(make_pool: Callable[[int], ThreadPool]) -> None:
    pool = make_pool(2)
    counter = Counter()
    for priority in (1, 100, 1000, MAX_PRIORITY):
        for _ in range(10):
            pool.push_work(counter.add, priority)
    assert _wait_for(lambda: counter.value == 40, 5)


def test_priority_order(make_pool: Callable[[int], ThreadPool]) -> None:
    """Maximum-priority work first in FIFO order, then by decreasing priority."""
    pool = make_pool(1)
    release = threading.Event()
    started = threading.Event()
    order: list[str] = []

    def blocker() -> None:
        started.set()
        release.wait(5)

    pool.push_work(blocker)
    assert started.wait(2)
    for name, priority in [
        ("low", 1),
        ("top1", MAX_PRIORITY),
        ("high", 1000),
        ("mid", 100),
        ("top2", MAX_PRIORITY),
    ]:
        pool.push_work(lambda name=name: order.append(name), priority)
    release.set()
    assert _wait_for(lambda: len(order) == 5, 5)
    assert order == ["top1", "top2", "high", "mid", "low"]


def test_size_tracking(make_pool: Callable[[int], ThreadPool]) -> None:
    pool = make_pool(1)
    release = threading.Event()
    started = threading.Event()
    counter = Counter()

    def blocker() -> None:
        started.set()
        release.wait(5)

    pool.push_work(blocker)
    assert started.wait(2)
    for _ in range(5):
        pool.push_work(counter.add)
    assert pool.size == 5
    release.set()
    time.sleep(0.3)
    assert pool.size == 0
    assert counter.value == 5


def test_stress(make_pool: Callable[[int], ThreadPool]) -> None:
    pool = make_pool(8)
    counter = Counter()
    for _ in range(10_000):
        pool.push_work(counter.add)
    assert _wait_for(lambda: counter.value == 10_000, 10)


def test_destruction_after_work_completed() -> None:
    counter = Counter()
    pool = ThreadPool(2)
    for _ in range(10):
        pool.push_work(counter.add)
    assert _wait_for(lambda: counter.value == 10, 5)
    pool.shutdown(wait=True)
    del pool
    assert counter.value == 10


def test_shutdown_finishes_queued_work_and_refuses_more() -> None:
    counter = Counter()
    pool = ThreadPool(1)
    for _ in range(20):
        pool.push_work(lambda: (time.sleep(0.001), counter.add()))
    pool.shutdown(wait=True)
    assert counter.value == 20
    with pytest.raises(RuntimeError):
        pool.push_work(counter.add)


def test_concurrent_pushers(make_pool: Callable[[int], ThreadPool]) -> None:
    pool = make_pool(4)
    counter = Counter()

    def pusher() -> None:
        for _ in range(100):
            pool.push_work(counter.add)

    threads = [threading.Thread(target=pusher) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert _wait_for(lambda: counter.value == 800, 5)


def test_failing_work_does_not_kill_workers(
    make_pool: Callable[[int], ThreadPool], capsys: pytest.CaptureFixture[str]
) -> None:
    pool = make_pool(1)
    counter = Counter()

    def fail() -> None:
        raise ValueError("work item failed")

    pool.push_work(fail)
    pool.push_work(counter.add)
    assert _wait_for(lambda: counter.value == 1, 5)


@pytest.mark.parametrize("count", [-1, 1.5, True, "2", None])
def test_invalid_thread_counts(count: object) -> None:
    driver = Driver(backend="memory")
    with pytest.raises(TypeError):
        driver.make_thread_pool(count)  # type: ignore[arg-type]
