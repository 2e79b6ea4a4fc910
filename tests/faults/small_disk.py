"""A disk that can be filled up on demand: a small tmpfs where this process may mount one, else
a per-file size limit (``RLIMIT_FSIZE``), under which writes fail the way they do on a full
disk (with ``EFBIG`` instead of ``ENOSPC``)."""

from __future__ import annotations

import resource
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SmallDisk:
    """A directory whose free space the test controls."""

    def __init__(self, path: Path, tmpfs: bool) -> None:
        self.path = path
        self.tmpfs = tmpfs
        self._ballast = path / "ballast"
        self._limits = resource.getrlimit(resource.RLIMIT_FSIZE)

    @property
    def kind(self) -> str:
        """How the disk is made small (``tmpfs`` or ``RLIMIT_FSIZE``)."""
        return "tmpfs" if self.tmpfs else "RLIMIT_FSIZE"

    def fill(self, leave: int) -> None:
        """Leave about ``leave`` bytes free (for RLIMIT_FSIZE: that much growth per file)."""
        if not self.tmpfs:
            largest = max(
                (p.stat().st_size for p in self.path.rglob("*") if p.is_file()), default=0
            )
            resource.setrlimit(resource.RLIMIT_FSIZE, (largest + leave, self._limits[1]))
            return
        with open(self._ballast, "wb", buffering=0) as file:
            try:
                while file.write(bytes(65536)):
                    pass
            except OSError:
                pass
            file.truncate(max(0, self._ballast.stat().st_size - leave))

    def free(self) -> None:
        """Give the space back."""
        if self.tmpfs:
            self._ballast.unlink(missing_ok=True)
        else:
            resource.setrlimit(resource.RLIMIT_FSIZE, self._limits)


@contextmanager
def small_disk(path: Path, size: str = "4m") -> Iterator[SmallDisk]:
    """A :class:`SmallDisk` at ``path``: a ``size`` tmpfs if it can be mounted, else a plain
    directory under a file-size limit. Unmounted (or the limit lifted) on exit."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        mount = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]
        mounted = subprocess.run(mount, capture_output=True, check=False).returncode == 0
    except OSError:  # no mount command
        mounted = False
    # Without this, the kernel kills the process at its first write past a file-size limit.
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    disk = SmallDisk(path, mounted)
    try:
        yield disk
    finally:
        disk.free()
        signal.signal(signal.SIGXFSZ, previous)
        if mounted:
            subprocess.run(["umount", "-l", str(path)], check=False)
