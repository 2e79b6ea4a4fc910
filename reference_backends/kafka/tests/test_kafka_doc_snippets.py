"""The documentation's Python examples that use the kafka backend run against the session's
broker: the address they show (``127.0.0.1:9092``) becomes the broker's, and a namespace of
their own keeps their topics apart from other tests'."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path

import pytest
from diaspora_stream.api import Driver

from diaspora_stream_kafka.testing import driver_options

# The helper lives in the repository's tests/, beside the docs it reads.
_HELPER = Path(__file__).resolve().parents[3] / "tests" / "doc_snippets.py"
if not _HELPER.is_file():
    pytest.skip("outside the diaspora-stream repository: no docs", allow_module_level=True)
_spec = importlib.util.spec_from_file_location("doc_snippets", _HELPER)
assert _spec is not None and _spec.loader is not None
doc_snippets = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("doc_snippets", doc_snippets)
_spec.loader.exec_module(doc_snippets)

SHOWN_ADDRESS = '"bootstrap.servers": "127.0.0.1:9092"}'


@pytest.mark.parametrize("snippet", doc_snippets.snippets_needing("kafka"), ids=str)
def test_example_runs_on_a_real_broker(snippet: doc_snippets.Snippet) -> None:
    assert SHOWN_ADDRESS in snippet.code, f"{snippet}: the example no longer shows {SHOWN_ADDRESS}"
    bootstrap = driver_options()["kafka"]["bootstrap.servers"]
    namespace = f"doc-{uuid.uuid4().hex[:8]}"
    code = snippet.code.replace(
        SHOWN_ADDRESS, f'"bootstrap.servers": "{bootstrap}"}}, "namespace": "{namespace}"'
    )
    exec(compile(code, str(snippet), "exec"), {})
    # What the example created is really on the broker.
    driver = Driver(backend="kafka", options=driver_options(namespace=namespace))
    try:
        assert driver.list_topics(), f"{snippet} created no topic"
    finally:
        driver.close()
