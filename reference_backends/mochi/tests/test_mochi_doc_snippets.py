"""The documentation's Python examples that use the mochi backend run as written, in the
directory of a service of their own whose group file is the one they name."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from diaspora_stream.api import Driver
from mochi_service import RunningService

# The helper lives in the repository's tests/, beside the docs it reads.
_HELPER = Path(__file__).resolve().parents[3] / "tests" / "doc_snippets.py"
if not _HELPER.is_file():
    pytest.skip("outside the diaspora-stream repository: no docs", allow_module_level=True)
_spec = importlib.util.spec_from_file_location("doc_snippets", _HELPER)
assert _spec is not None and _spec.loader is not None
doc_snippets = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("doc_snippets", doc_snippets)
_spec.loader.exec_module(doc_snippets)


@pytest.mark.parametrize("snippet", doc_snippets.snippets_needing("mochi"), ids=str)
def test_example_runs_on_a_service(
    snippet: doc_snippets.Snippet, make_service: Callable[..., RunningService]
) -> None:
    named = re.search(r'"group_file": "([^"]+)"', snippet.code)
    assert named, f"{snippet}: the example names no group file"
    service = make_service(group_file=named.group(1))
    group_file = Path(service.group_file)
    previous = os.getcwd()
    os.chdir(group_file.parent)
    try:
        exec(compile(snippet.code, str(snippet), "exec"), {})
    finally:
        os.chdir(previous)
    driver = Driver(backend="mochi", options=service.options())
    try:
        assert driver.list_topics(), f"{snippet} created no topic"
    finally:
        driver.close()
