"""A pytest plugin for the meta-test runs (``-p catchers_first``): expected catchers run first.

The meta-tests run the whole conformance suite with ``-x`` on a broken backend. This plugin
moves the suite tests listed in the environment variable ``DIASPORA_META_CATCHERS`` (behaviour
ids ``Class::test``, comma-separated) to the front, so that the run stops as soon as the test
that should catch the bug has failed; every other test still runs afterwards if it did not.
With ``DIASPORA_META_NO_SHRINK=1`` it also turns off Hypothesis' shrinking (the meta-tests
only need to know *that* a property test fails, not its smallest example).

It changes neither the tests nor their settings otherwise: the profile chosen with
``--diaspora-profile`` stays in force.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

from diaspora_stream_conformance.plugin import behaviour_id

#: Environment variable listing the behaviour ids to run first.
CATCHERS_VARIABLE = "DIASPORA_META_CATCHERS"
#: Environment variable turning off Hypothesis' shrink phase when set to ``1``.
NO_SHRINK_VARIABLE = "DIASPORA_META_NO_SHRINK"


def catchers() -> list[str]:
    """The behaviour ids to run first, in order."""
    text = os.environ.get(CATCHERS_VARIABLE, "")
    return [item.strip() for item in text.split(",") if item.strip()]


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> Generator[None, None, None]:
    """After every other plugin (the suite's loads its profile there): move the catchers to
    the front (stable otherwise) and maybe disable shrinking."""
    yield
    first = catchers()
    if first:
        rank = {identifier: position for position, identifier in enumerate(first)}

        def key(item: pytest.Item) -> int:
            """Position of ``item``: its rank among the catchers, else after them."""
            identifier = behaviour_id(item)
            base = identifier.split("[", 1)[0]
            return rank.get(identifier, rank.get(base, len(rank)))

        items.sort(key=key)
    if os.environ.get(NO_SHRINK_VARIABLE) == "1":
        from hypothesis import Phase, settings

        current = settings()
        settings.register_profile(
            "diaspora-meta-no-shrink",
            parent=current,
            phases=[phase for phase in current.phases if phase is not Phase.shrink],
        )
        settings.load_profile("diaspora-meta-no-shrink")
