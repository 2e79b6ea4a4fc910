"""The whole suite as one class to subclass: :class:`ConformanceSuite`."""

from __future__ import annotations

from .behaviours import BehaviourTests

__all__ = ["ConformanceSuite"]


class ConformanceSuite(BehaviourTests):
    """Every test of the suite. Subclass it (name it ``Test...``) and override
    ``diaspora_backend`` to run the suite from your own tests."""
