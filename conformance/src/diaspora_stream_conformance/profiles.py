"""Hypothesis profiles of the suite: ``dev`` (fast), ``ci`` (derandomized), ``thorough``."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

__all__ = ["PROFILES", "register_profiles", "STATEFUL_STEPS"]

PROFILES = ("dev", "ci", "thorough")

#: Number of steps of one stateful program, per profile.
STATEFUL_STEPS = {"dev": 20, "ci": 30, "thorough": 100}

_COMMON = {
    "deadline": None,  # backends do I/O; the suite relies on pytest timeouts instead
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.differing_executors,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
}


def register_profiles() -> None:
    """Register the profiles under ``diaspora-dev``, ``diaspora-ci``, ``diaspora-thorough``."""
    settings.register_profile("diaspora-dev", max_examples=10, **_COMMON)
    settings.register_profile(
        "diaspora-ci",
        parent=settings.get_profile("ci"),
        max_examples=25,
        derandomize=True,
        print_blob=True,
        **_COMMON,
    )
    settings.register_profile("diaspora-thorough", max_examples=300, **_COMMON)
