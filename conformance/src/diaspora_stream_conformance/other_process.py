"""Steps run by another process against the backend under test, to check state seen from
elsewhere (a topic, an event, an acknowledged position that only one process's memory knows is
not persistent).

The child process is ``sys.executable`` with the backend's name and resolved options: the
backend must be findable by name there (an installed entry point or ``"name:module"``). Steps
are JSON objects; the child prints one JSON result per step:

* ``{"op": "create", "topic": T, "options": {...}}`` -> ``null``
* ``{"op": "exists", "topic": T}`` -> ``true``/``false``
* ``{"op": "list"}`` -> the sorted topic names
* ``{"op": "push", "topic": T, "events": [[metadata, data_text], ...], "partition": P}`` ->
  ``{"flushed": bool, "ids": [...]}`` (data is latin-1 text, so any bytes travel)
* ``{"op": "read", "topic": T, "consumer": NAME, "count": N, "acknowledge_last": bool}`` ->
  ``{"events": [[partition, id, metadata, data_text], ...], "extra": bool}``
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from .backend import BackendUnderTest

__all__ = ["CHILD_TIMEOUT_S", "run_in_other_process"]

#: Seconds the other process may take before the test fails.
CHILD_TIMEOUT_S = 120

_PROGRAM = r"""
import json, sys
from diaspora_stream.api import Driver

args = json.loads(sys.argv[1])
driver = Driver(backend=args["backend"], options=args["options"])
results = []


def data_text(event):
    return b"".join(bytes(memoryview(b).cast("B")) for b in event.data).decode("latin-1")


for step in args["steps"]:
    op = step["op"]
    if op == "create":
        driver.create_topic(step["topic"], options=step["options"])
        results.append(None)
    elif op == "exists":
        results.append(driver.topic_exists(step["topic"]))
    elif op == "list":
        results.append(sorted(driver.list_topics()))
    elif op == "push":
        producer = driver.open_topic(step["topic"]).producer("other-process")
        futures = [
            producer.push(metadata, data.encode("latin-1"), partition=step.get("partition"))
            for metadata, data in step["events"]
        ]
        flushed = producer.flush().wait(60000)
        results.append({"flushed": flushed, "ids": [f.wait(60000) for f in futures]})
        producer.close()
    elif op == "read":
        consumer = driver.open_topic(step["topic"]).consumer(step["consumer"])
        events = []
        last = None
        for _ in range(step["count"]):
            event = consumer.pull().wait(10000)
            if event is None or event.event_id is None:
                break
            events.append([event.partition_index, event.event_id, event.metadata, data_text(event)])
            last = event
        if step.get("acknowledge_last") and last is not None:
            last.acknowledge()
        extra = consumer.pull().wait(200)
        more = extra is not None and extra.event_id is not None
        results.append({"events": events, "extra": more})
        consumer.close()
    else:
        raise SystemExit(f"unknown step {op!r}")
print(json.dumps(results), flush=True)
driver.close()
"""


def run_in_other_process(backend: BackendUnderTest, steps: list[dict[str, Any]]) -> list[Any]:
    """Run ``steps`` in a new process against ``backend``; return one result per step."""
    arguments = {"backend": backend.name, "options": backend.resolved_options(), "steps": steps}
    try:
        finished = subprocess.run(
            [sys.executable, "-c", _PROGRAM, json.dumps(arguments)],
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise AssertionError(
            f"the other process did not finish its steps within {CHILD_TIMEOUT_S} s: {steps}"
        ) from error
    assert finished.returncode == 0, (
        f"the other process failed (exit {finished.returncode}) running {steps}:\n{finished.stderr}"
    )
    lines = [line for line in finished.stdout.splitlines() if line.strip()]
    assert lines, f"the other process printed nothing; stderr:\n{finished.stderr}"
    results: list[Any] = json.loads(lines[-1])
    return results
