"""Starting the probes of :mod:`.probe` in fresh processes and collecting their results."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import IO, Any

__all__ = ["ProbeFailed", "run_probe", "run_producers"]

_COMMAND = (sys.executable, "-m", "diaspora_stream.bench.scaling.probe")
#: Seconds a probe may take before it is stopped and the benchmark fails.
TIMEOUT_S = 1800.0


class ProbeFailed(RuntimeError):
    """A probe process failed; the message ends with the last line it wrote on stderr."""


def _failure(what: str, returncode: int | None, stderr: str) -> ProbeFailed:
    lines = [line for line in stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else "no message"
    return ProbeFailed(f"the {what} process failed (exit status {returncode}): {last}")


def _result(stdout: str, what: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        raise ProbeFailed(f"the {what} process printed no result")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def run_probe(request: dict[str, Any], cwd: str) -> dict[str, Any]:
    """Run one probe in a fresh process (working directory ``cwd``); its result, with
    ``process_s``: the seconds from starting the process to its exit, imports included."""
    start = time.perf_counter()
    completed = subprocess.run(
        [*_COMMAND, json.dumps(request)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise _failure(request["kind"], completed.returncode, completed.stderr)
    return _result(completed.stdout, request["kind"]) | {"process_s": elapsed}


class _Producers:
    """Producer probe processes; :meth:`stop` kills those still running."""

    def __init__(self, requests: Sequence[dict[str, Any]], cwd: str) -> None:
        self.processes: list[subprocess.Popen[str]] = []
        self.errors: list[IO[str]] = []
        try:
            for request in requests:
                self.errors.append(tempfile.TemporaryFile("w+", encoding="utf-8"))
                self.processes.append(
                    subprocess.Popen(
                        [*_COMMAND, json.dumps(request)],
                        cwd=cwd,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=self.errors[-1],
                        text=True,
                    )
                )
        except BaseException:
            self.stop()
            raise

    def line(self, index: int) -> str:
        """The next line process ``index`` writes; raises :class:`ProbeFailed` if it exits
        first."""
        stdout = self.processes[index].stdout
        assert stdout is not None
        text = stdout.readline()
        if not text:
            self.check(index)
            raise ProbeFailed("a producer process stopped without a result")
        return text

    def check(self, index: int) -> None:
        """Wait for process ``index`` to exit; raise :class:`ProbeFailed` if it failed."""
        process = self.processes[index]
        if process.wait(TIMEOUT_S) != 0:
            error = self.errors[index]
            error.seek(0)
            raise _failure("producer", process.returncode, error.read())

    def signal(self) -> None:
        """Tell every process to start."""
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()

    def stop(self) -> None:
        """Kill the processes still running and close their pipes and files."""
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
        for error in self.errors:
            error.close()


def run_producers(
    request: dict[str, Any], shares: Sequence[int], cwd: str
) -> tuple[float, list[dict[str, Any]]]:
    """Start one ``produce`` probe per share (its number of events), let them push at once
    when all are ready, and return the seconds from the start signal to the last result, with
    each process's own result."""
    producers = _Producers([request | {"kind": "produce", "events": n} for n in shares], cwd)
    try:
        for index in range(len(shares)):
            producers.line(index)  # ready
        start = time.perf_counter()
        producers.signal()
        results = [_result(producers.line(index), "producer") for index in range(len(shares))]
        elapsed = time.perf_counter() - start
        for index in range(len(shares)):
            producers.check(index)
        return elapsed, results
    finally:
        producers.stop()
