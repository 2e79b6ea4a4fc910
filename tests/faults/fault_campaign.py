"""The bookkeeping of a fault campaign: seeds, bounded trial counts, tallies and the report.

A campaign runs a bounded number of randomized trials of one fault class on one backend and
counts, over all its trials, the events it checked and what went wrong with them:

* **lost**: an event acknowledged (push future returned, or covered by a flush that returned)
  that is not there afterwards;
* **duplicated**: an event delivered or stored more than once;
* **torn**: an event partially visible or with wrong bytes (metadata or data), or ids that are
  not dense;
* **crashed**: a process or server that died when nothing killed it, or an exception that is not
  the library's ``Exception``.

Environment:

* ``DIASPORA_FAULTS_SEED``: the base seed (an integer); without it a fresh one is drawn and
  printed with every campaign line, so a failing run can be replayed exactly;
* ``DIASPORA_FAULTS_SCALE``: a factor applied to every trial count (default 1; e.g. 10 for a
  long campaign before a release);
* ``DIASPORA_FAULTS_REPORT``: a path where the Markdown table of the session is written.
"""

from __future__ import annotations

import os
import random
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

SEED_VARIABLE = "DIASPORA_FAULTS_SEED"
SCALE_VARIABLE = "DIASPORA_FAULTS_SCALE"
REPORT_VARIABLE = "DIASPORA_FAULTS_REPORT"
#: How many problem descriptions a failing campaign shows.
SHOWN_PROBLEMS = 20
_KINDS = ("lost", "torn", "duplicated", "crashed")
#: Backends that run across processes (the SIGKILL campaigns need them).
PROCESS_BACKENDS = ["files", "mochi", "kafka"]


def base_seed() -> int:
    """The session's base seed: ``$DIASPORA_FAULTS_SEED``, else drawn once per process."""
    global _BASE_SEED
    if _BASE_SEED is None:
        configured = os.environ.get(SEED_VARIABLE, "").strip()
        _BASE_SEED = int(configured) if configured else random.SystemRandom().randrange(1 << 32)
    return _BASE_SEED


_BASE_SEED: int | None = None


def trials(count: int) -> int:
    """``count`` scaled by ``$DIASPORA_FAULTS_SCALE`` (at least one trial)."""
    scale = float(os.environ.get(SCALE_VARIABLE, "1") or 1)
    return max(1, round(count * scale))


@dataclass
class Tally:
    """What one campaign did and found."""

    name: str
    seed: int
    trials: int = 0
    events: int = 0
    lost: int = 0
    torn: int = 0
    duplicated: int = 0
    crashed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def rng(self) -> random.Random:
        """A generator seeded by this campaign's seed (a new one at each access)."""
        return random.Random(self.seed)

    def found(self, kind: str, what: str, count: int = 1) -> None:
        """Count ``count`` problems of ``kind`` (one of lost, torn, duplicated, crashed)."""
        if kind not in _KINDS:
            raise ValueError(f"unknown kind of problem {kind!r}")
        setattr(self, kind, getattr(self, kind) + count)
        self.problems.append(f"trial {self.trials}: {kind} x{count}: {what}")

    @property
    def clean(self) -> bool:
        """Nothing lost, torn, duplicated or crashed."""
        return not any(getattr(self, kind) for kind in _KINDS)

    def line(self) -> str:
        """The one-line summary printed by every campaign."""
        return (
            f"campaign {self.name}: {self.trials} trials, {self.events} events, "
            f"{self.lost} lost, {self.torn} torn, {self.duplicated} duplicated, "
            f"{self.crashed} crashed (seed {self.seed})"
        )

    def verdict(self) -> str:
        """The summary line and the first problems, for an assertion message."""
        shown = self.problems[:SHOWN_PROBLEMS]
        more = len(self.problems) - len(shown)
        tail = [f"... and {more} more"] if more > 0 else []
        replay = f"replay with {SEED_VARIABLE}={base_seed()}"
        return "\n".join([self.line(), replay, *shown, *tail])


def campaign_seed(name: str) -> int:
    """The seed of campaign ``name``: derived from the base seed, so each campaign can be
    replayed alone."""
    return (base_seed() ^ zlib.crc32(name.encode())) & 0xFFFFFFFF


def table(tallies: Iterable[Tally]) -> str:
    """The Markdown table of ``tallies``."""
    rows = [
        "| campaign | trials | events | lost | torn | duplicated | crashed | seed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for tally in tallies:
        rows.append(
            f"| {tally.name} | {tally.trials} | {tally.events} | {tally.lost} | {tally.torn} "
            f"| {tally.duplicated} | {tally.crashed} | {tally.seed} |"
        )
    return "\n".join(rows) + "\n"


def write_report(tallies: list[Tally]) -> Path | None:
    """Write the table to ``$DIASPORA_FAULTS_REPORT`` when it is set; return the path."""
    configured = os.environ.get(REPORT_VARIABLE)
    if not configured or not tallies:
        return None
    path = Path(configured)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"Fault campaign (base seed {base_seed()}, {SEED_VARIABLE} to replay)\n\n"
    path.write_text(header + table(tallies), encoding="utf-8")
    return path


def conclude(tally: Tally) -> None:
    """Print the campaign's line and fail, naming the first problems, unless it is clean."""
    print(tally.line())
    assert tally.clean, tally.verdict()
