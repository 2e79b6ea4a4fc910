"""The behaviour catalogue: every rule family of :mod:`.rules` in one class.

Sources: the reference's own tests (``spec/reference-api.md`` §9.2, §9.3), the documentation's
semantics (§10), the design's deviations D1-D7 and the rules every backend keeps (threads, time,
visibility, names, state seen from elsewhere). Each test's docstring states its rule in one
line; the report and the generated catalogue show it.

The helpers that used to live here are in :mod:`.helpers` and :mod:`.python_components`; they
are re-exported for code that imports them from this module.
"""

from __future__ import annotations

from .helpers import (
    QUIET_MS,
    WAIT_MS,
    assert_no_more_events,
    consumer_name,
    data_bytes,
    event_key,
    push_and_flush,
    read_all,
    run_in_threads,
    take,
)
from .python_components import EnvelopeSerializer, KeyPartitionSelector, RequiredKeyValidator
from .rules import RULE_FAMILIES

__all__ = [
    "BehaviourTests",
    "QUIET_MS",
    "RULE_FAMILIES",
    "WAIT_MS",
    "EnvelopeSerializer",
    "KeyPartitionSelector",
    "RequiredKeyValidator",
    "assert_no_more_events",
    "consumer_name",
    "data_bytes",
    "event_key",
    "push_and_flush",
    "read_all",
    "run_in_threads",
    "take",
]


class BehaviourTests(*RULE_FAMILIES):  # type: ignore[misc]
    """Every rule family of the catalogue (see :mod:`.rules`)."""
