"""The suite's Hypothesis profiles keep their promise whatever profile was loaded before."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings

from diaspora_stream_conformance.profiles import register_profiles


@pytest.fixture
def restored_profile() -> Iterator[None]:
    """Put back the settings the session had (these tests load profiles)."""
    before = settings()
    yield
    settings.register_profile("restored-after-profile-test", parent=before)
    settings.load_profile("restored-after-profile-test")


@pytest.mark.parametrize("loaded_first", [True, False], ids=["derandomized", "random"])
def test_dev_and_thorough_draw_new_examples_and_ci_repeats_them(
    restored_profile: None, loaded_first: bool
) -> None:
    # With the CI variable set, Hypothesis loads a derandomized default: a profile registered
    # then without saying otherwise would inherit it.
    settings.register_profile("loaded-before-the-suite", derandomize=loaded_first)
    settings.load_profile("loaded-before-the-suite")
    register_profiles()
    assert settings.get_profile("diaspora-dev").derandomize is False
    assert settings.get_profile("diaspora-thorough").derandomize is False
    assert settings.get_profile("diaspora-ci").derandomize is True
