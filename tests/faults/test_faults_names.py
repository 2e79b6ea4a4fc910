"""Campaign: hostile topic and consumer names on every backend.

Names are drawn from pieces that break file systems, protocols and terminals (``/``, ``..``,
NUL, 10,000 characters, unicode, control characters, a lone surrogate). Each must be refused
with the library's ``Exception`` or stored as a name of its own: events pushed under it are
read back under it alone, a consumer's acknowledgements stay with its own name, and nothing
else stored is damaged.
"""

from __future__ import annotations

import os
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fault_campaign import Tally, conclude

from diaspora_stream.api import Driver
from diaspora_stream.api import Exception as DiasporaException

PIECES = [
    "/", "..", ".", "\\", "\0", "x" * 10_000, "日本語", "🙂", "\u202e", "\n", "\t", "\x1b[2J",
    "\x7f", " ", "", "a", "%2e%2e", "\ud800", "-", "_", "~", "*", "🙂" * 70,
]  # fmt: skip
TRIALS = {"kafka": 12}
DEFAULT_TRIALS = 40
BACKENDS = ["memory", "files", "mochi", "kafka"]
CANARY = "names-canary"


def hostile_name(rng: random.Random) -> str:
    """One to four pieces, each possibly alone (``..``, the empty name)."""
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 4)))


class Refused(Exception):
    """The backend refused a name with the library's exception."""


@contextmanager
def judged(tally: Tally, what: str) -> Iterator[None]:
    """Run an operation on a hostile name: the library's exception becomes :class:`Refused`,
    any other exception counts as a crash."""
    try:
        yield
    except DiasporaException as error:
        raise Refused(str(error)) from error
    except Exception as error:
        tally.found("crashed", f"{what}: untyped {type(error).__name__}: {error!r:.300}")
        raise Refused(str(error)) from error


def _payload(metadata: Any, data: list[memoryview]) -> tuple[Any, bytes]:
    return metadata, b"".join(bytes(view) for view in data)


def _tree(path: Path | None) -> set[str]:
    """The names directly in ``path`` (where a backend's root lives), to see escapes."""
    return set(os.listdir(path)) if path is not None and path.exists() else set()


@pytest.mark.parametrize("backend", BACKENDS)
def test_hostile_names_are_refused_or_stored_distinctly(
    backend: str,
    campaign: Callable[[str], Tally],
    backend_options: Callable[[str], dict[str, Any]],
    trial_count: Callable[[int], int],
) -> None:
    tally = campaign(f"{backend}-hostile-names")
    rng = tally.rng
    options = backend_options(backend)
    root = Path(options["root_path"]) if "root_path" in options else None
    driver = Driver(backend=backend, options=options)
    prefix = f"n{tally.seed}-"
    canary = prefix + CANARY
    driver.create_topic(canary)
    outside = _tree(root.parent if root else None)
    stored: dict[str, list[tuple[Any, bytes]]] = defaultdict(list)
    acked: dict[tuple[str, str], int] = defaultdict(int)
    created = {canary}
    for trial in range(trial_count(TRIALS.get(backend, DEFAULT_TRIALS))):
        tally.trials += 1
        name, consumer_name = hostile_name(rng), hostile_name(rng)
        target = canary
        if name not in created:
            try:
                with judged(tally, f"create_topic({name!r:.60})"):
                    driver.create_topic(name)
                created.add(name)
                target = name
            except Refused:
                pass
            try:
                with judged(tally, f"topic_exists({name!r:.60})"):
                    driver.topic_exists(name)
            except Refused:
                pass
        else:
            target = name
        # The name goes in as ASCII: metadata that is not valid Unicode is refused by itself.
        event = ({"trial": trial, "name": ascii(name)}, os.urandom(rng.randint(0, 64)))
        handle = driver.open_topic(target)
        producer = handle.producer()
        producer.push(*event)
        producer.flush().wait()
        producer.close()
        stored[target].append(event)
        try:
            with judged(tally, f"consumer({consumer_name!r:.60})"):
                consumer = handle.consumer(consumer_name)
        except Refused:
            continue
        got = consumer.pull().wait(10_000)
        position = acked[(target, consumer_name)]
        if got is None or _payload(got.metadata, got.data) != stored[target][position]:
            tally.found("torn", f"consumer {consumer_name!r:.60} of {target!r:.60} read {got}")
        else:
            got.acknowledge()
            acked[(target, consumer_name)] += 1
        consumer.close()
    _check_everything(tally, driver, stored, acked)
    if root is not None and _tree(root.parent) != outside:
        tally.found("torn", f"files appeared beside the root: {_tree(root.parent) - outside}")
    driver.close()
    conclude(tally)


def _check_everything(
    tally: Tally,
    driver: Driver,
    stored: dict[str, list[tuple[Any, bytes]]],
    acked: dict[tuple[str, str], int],
) -> None:
    """Each name holds its own events, each consumer name its own position."""
    listed = set(driver.list_topics())
    for name, events in stored.items():
        tally.events += len(events)
        if name not in listed:
            tally.found("lost", f"topic {name!r:.60} is not listed")
        consumer = driver.open_topic(name).consumer(f"check-{tally.seed}")
        got = []
        while (event := consumer.pull().wait(3000 if len(got) < len(events) else 200)) is not None:
            got.append(_payload(event.metadata, event.data))
        consumer.close()
        if got[: len(events)] != events[: len(got)]:
            tally.found("torn", f"topic {name!r:.60} holds other events than its own")
        if len(got) < len(events):
            tally.found(
                "lost", f"topic {name!r:.60}: {len(got)} of {len(events)}", len(events) - len(got)
            )
        elif len(got) > len(events):
            tally.found(
                "duplicated", f"topic {name!r:.60}: {len(got)} events, {len(events)} pushed"
            )
    for (name, consumer_name), count in acked.items():
        consumer = driver.open_topic(name).consumer(consumer_name)
        expected = stored[name][count] if count < len(stored[name]) else None
        event = consumer.pull().wait(3000 if expected is not None else 200)
        got_payload = None if event is None else _payload(event.metadata, event.data)
        if got_payload != expected:
            tally.found("torn", f"consumer {consumer_name!r:.60} of {name!r:.60} resumed wrongly")
        consumer.close()
