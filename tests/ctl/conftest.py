"""Fixtures of the diaspora-ctl tests: a files root and daemons that are always ended."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from ctl_helpers import Daemon  # noqa: E402


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Root directory of the files backend."""
    return tmp_path / "root"


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[Callable[[Sequence[str]], Daemon]]:
    """Start ``diaspora-ctl ARGS`` in the background; leftovers are killed at teardown."""
    daemons: list[Daemon] = []

    def start(args: Sequence[str]) -> Daemon:
        daemon = Daemon(args, tmp_path)
        daemons.append(daemon)
        return daemon

    yield start
    for daemon in daemons:
        daemon.kill()
