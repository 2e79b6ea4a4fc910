"""Hypothesis profiles of the suite: ``dev`` (fast), ``ci`` (derandomized), ``thorough``."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

__all__ = ["PROFILES", "register_profiles", "STATEFUL_STEPS"]

PROFILES = ("dev", "ci", "thorough")

#: Number of steps of one stateful program, per profile.
STATEFUL_STEPS = {"dev": 20, "ci": 30, "thorough": 100}

_SUPPRESSED = [
    HealthCheck.too_slow,
    HealthCheck.differing_executors,
    HealthCheck.function_scoped_fixture,
    HealthCheck.data_too_large,
]


def register_profiles() -> None:
    """Register the profiles under ``diaspora-dev``, ``diaspora-ci``, ``diaspora-thorough``."""
    # Backends do I/O: no per-example deadline (pytest timeouts bound the run instead).
    # dev and thorough draw new examples every run, whatever profile was loaded before (with
    # the CI variable set, Hypothesis' own default derandomizes, and a profile inherits it).
    settings.register_profile(
        "diaspora-dev",
        max_examples=10,
        deadline=None,
        derandomize=False,
        suppress_health_check=_SUPPRESSED,
    )
    settings.register_profile(
        "diaspora-ci",
        parent=settings.get_profile("ci"),
        max_examples=25,
        derandomize=True,
        print_blob=True,
        deadline=None,
        suppress_health_check=_SUPPRESSED,
    )
    settings.register_profile(
        "diaspora-thorough",
        max_examples=300,
        deadline=None,
        derandomize=False,
        suppress_health_check=_SUPPRESSED,
    )
