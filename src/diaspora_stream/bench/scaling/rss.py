"""Resident memory of the calling process: now, and its peak.

On Linux the peak is ``VmHWM`` of ``/proc/self/status``, the high-water mark of this process's
own address space. ``getrusage(RUSAGE_SELF).ru_maxrss`` is not used there because Linux carries
it across ``exec``: a child forked from a large parent reports the parent's size. Elsewhere
``ru_maxrss`` is the only figure there is.
"""

from __future__ import annotations

import resource
import sys

__all__ = ["current_rss", "peak_rss", "peak_rss_source"]

_STATUS = "/proc/self/status"


def _status_bytes(field: str) -> int | None:
    """A ``kB`` field of ``/proc/self/status`` in bytes, or ``None`` where there is none."""
    try:
        with open(_STATUS, encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def peak_rss_source() -> str:
    """Where :func:`peak_rss` comes from: ``"VmHWM"`` or ``"ru_maxrss"``."""
    return "VmHWM" if _status_bytes("VmHWM") is not None else "ru_maxrss"


def peak_rss() -> int:
    """The peak resident set size of this process, in bytes."""
    peak = _status_bytes("VmHWM")
    if peak is not None:
        return peak
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024  # bytes on macOS, else KiB


def current_rss() -> int | None:
    """The resident set size of this process now, in bytes (``None`` where unknown)."""
    return _status_bytes("VmRSS")
