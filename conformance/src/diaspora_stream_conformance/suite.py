"""The whole suite as one class to subclass: :class:`ConformanceSuite`."""

from __future__ import annotations

from .bad_input import BadInputTests
from .behaviours import BehaviourTests
from .capability_checks import CapabilityTests
from .stateful import StatefulTests

__all__ = ["ConformanceSuite"]


class ConformanceSuite(BehaviourTests, BadInputTests, CapabilityTests, StatefulTests):
    """Every test of the suite. Subclass it (name it ``Test...``) and override
    ``diaspora_backend`` to run the suite from your own tests."""
