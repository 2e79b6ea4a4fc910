"""Optional MPI for the benchmarks: mpi4py is imported only when launched under ``mpirun``."""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

__all__ = ["MpiContext", "launched_under_mpi", "mpi_context"]

# Variables that the common MPI launchers (Open MPI, MPICH/Hydra, Intel MPI, MVAPICH, PMIx)
# set in each process they start.
_LAUNCHER_VARIABLES = (
    "OMPI_COMM_WORLD_SIZE",
    "PMI_SIZE",
    "PMI_RANK",
    "PMIX_RANK",
    "MPI_LOCALNRANKS",
    "MV2_COMM_WORLD_SIZE",
)


def launched_under_mpi() -> bool:
    """Whether an MPI launcher started this process (``DIASPORA_BENCH_MPI=0`` says no)."""
    forced = os.environ.get("DIASPORA_BENCH_MPI")
    if forced is not None:
        return forced not in ("", "0", "false", "no")
    return any(name in os.environ for name in _LAUNCHER_VARIABLES)


class MpiContext:
    """Rank, size and the few collective operations the benchmarks use.

    Without a communicator it is a single process: rank 0 of 1, collectives are identities.
    """

    def __init__(self, comm: Any = None) -> None:
        self.comm = comm
        self.rank: int = comm.Get_rank() if comm is not None else 0
        self.size: int = comm.Get_size() if comm is not None else 1

    @property
    def is_root(self) -> bool:
        """Whether this process prints the report (rank 0)."""
        return self.rank == 0

    def barrier(self) -> None:
        """Wait for every process."""
        if self.comm is not None:
            self.comm.Barrier()

    def sum(self, value: float) -> float:
        """Sum of ``value`` over the processes (meaningful on rank 0)."""
        if self.comm is None:
            return value
        total = self.comm.reduce(value, root=0)
        return value if total is None else total

    def max(self, value: float) -> float:
        """Maximum of ``value`` over the processes (meaningful on rank 0)."""
        if self.comm is None:
            return value
        result = self.comm.reduce(value, op=_mpi_max(), root=0)
        return value if result is None else result

    def abort(self, code: int) -> None:
        """End every process (after one failed) with ``code``."""
        if self.comm is not None and self.size > 1:
            self.comm.Abort(code)


def _mpi_max() -> Any:
    from mpi4py import MPI

    return MPI.MAX


def mpi_context(stream: TextIO | None = None) -> MpiContext:
    """The MPI context: a real one under ``mpirun`` when mpi4py is installed, else a single
    process (with a warning on ``stream`` if launched under MPI without mpi4py)."""
    if not launched_under_mpi():
        return MpiContext()
    try:
        from mpi4py import MPI
    except ImportError:
        print(
            "warning: launched by an MPI launcher but mpi4py is not installed; running as a "
            "single process (pip install mpi4py)",
            file=stream or sys.stderr,
            flush=True,
        )
        return MpiContext()
    return MpiContext(MPI.COMM_WORLD)
