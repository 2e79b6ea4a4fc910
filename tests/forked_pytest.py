"""Pytest runs in forked children of a pre-imported process: ``pytester.runpytest_subprocess``
without paying a new interpreter's imports for every run.

The tests of the conformance suite itself run the suite in a new pytest process about a hundred
times (the meta-tests, the plugin's tests). Most of each short run went into starting Python and
importing pytest, Hypothesis, numpy and the API package again. Here one server process per test
process (per xdist worker) imports them once; every run is a ``fork`` of it that sets the
environment and the working directory the test asked for, runs ``pytest.main`` and exits as
``python -m pytest`` would. A run is still a process of its own: its exit, its signals, its
crashes and its module state never touch the test process or the next run.

The server is single-threaded, so forking it is safe; the test process itself, with xdist's and
the backends' threads, is never forked. :func:`run_pytest` is called like
``pytester.runpytest_subprocess`` and returns the same :class:`pytest.RunResult`; with
``DIASPORA_TEST_NO_FORK=1`` in the environment it *is* ``pytester.runpytest_subprocess`` (to rule
the server out when a run behaves strangely).
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

__all__ = ["NO_FORK_VARIABLE", "PRELOADED", "run_pytest"]

#: Set to ``1``: every run is a new ``python -m pytest`` process, as pytester makes it.
NO_FORK_VARIABLE = "DIASPORA_TEST_NO_FORK"

#: What the server imports once: the heavy imports every run of the suite makes. Pytest plugin
#: modules that pytest would rewrite (the conformance plugin) are left to each run.
PRELOADED = (
    "pytest",
    "_pytest.pytester",
    "hypothesis",
    "hypothesis.stateful",
    "hypothesis.strategies",
    "numpy",
    "diaspora_stream.api",
    "diaspora_stream.backends.memory",
)
#: Seconds between two checks of a running child's exit.
_POLL_S = 0.02
_HERE = str(Path(__file__).resolve().parent)


def run_pytest(
    pytester: pytest.Pytester, *args: str | os.PathLike[str], timeout: float | None = None
) -> pytest.RunResult:
    """Run ``pytest *args`` in ``pytester.path`` with the test process's environment, in a fresh
    process forked from the pre-imported server; like ``pytester.runpytest_subprocess``,
    including its ``--basetemp`` and its :class:`pytest.Pytester.TimeoutExpired`."""
    if os.environ.get(NO_FORK_VARIABLE) == "1":
        return pytester.runpytest_subprocess(*args, timeout=timeout)
    basetemp = tempfile.mkdtemp(prefix="runpytest-", dir=pytester.path)
    # Imported once by the server, Hypothesis cannot be rewritten by pytest in the runs (the
    # suite's own modules still are): its warning saying so is noise, last so that it wins.
    arguments = [
        f"--basetemp={basetemp}",
        *(str(arg) for arg in args),
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
    ]
    for plugin in pytester.plugins:
        arguments[:0] = ["-p", str(plugin)]
    out, err = pytester.path / "stdout", pytester.path / "stderr"
    started = time.monotonic()
    reply = _server().run(
        {
            "args": arguments,
            "cwd": str(pytester.path),
            "env": dict(os.environ),
            "stdout": str(out),
            "stderr": str(err),
            "timeout": timeout,
        }
    )
    duration = time.monotonic() - started
    outlines = out.read_text(errors="replace").splitlines()
    errlines = err.read_text(errors="replace").splitlines()
    sys.stdout.write("\n".join(outlines) + "\n")
    sys.stderr.write("\n".join(errlines) + "\n")
    if reply["timed_out"]:
        raise pytest.Pytester.TimeoutExpired(
            f"{timeout} second timeout expired running: pytest {' '.join(arguments)}"
        )
    return pytest.RunResult(reply["returncode"], outlines, errlines, duration)


class _Server:
    """The client side of one server process: one request at a time."""

    def __init__(self) -> None:
        environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        self._process = subprocess.Popen(
            [sys.executable, "-c", f"import sys; sys.path.insert(0, {_HERE!r}); "
             "import forked_pytest; forked_pytest.serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
            text=True,
        )  # fmt: skip
        self._lock = threading.Lock()

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one run to the server and return its reply."""
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        with self._lock:
            stdin.write(json.dumps(request) + "\n")
            stdin.flush()
            line = stdout.readline()
        if not line:
            raise RuntimeError(f"the pytest fork server ended (exit code {self._process.poll()})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def close(self) -> None:
        """End the server (it exits at the end of its input)."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()


_SERVER: _Server | None = None


def _server() -> _Server:
    """This process's server, started at the first run."""
    global _SERVER
    if _SERVER is None or _SERVER._process.poll() is not None:
        _SERVER = _Server()
        atexit.register(_SERVER.close)
    return _SERVER


# ------------------------------------------------------------------- the server process


def serve() -> None:
    """The server's loop: import :data:`PRELOADED`, then fork one child per request line read
    from standard input, and write one reply line per request to standard output."""
    import importlib

    for name in PRELOADED:
        importlib.import_module(name)
    base_path = [entry for entry in sys.path if entry not in ("", _HERE)]
    requests, replies = sys.stdin, sys.stdout
    for line in requests:
        request = json.loads(line)
        replies.flush()
        sys.stderr.flush()
        child = os.fork()
        if child == 0:
            _run_child(request, base_path)  # never returns
        replies.write(json.dumps(_wait(child, request.get("timeout"))) + "\n")
        replies.flush()


def _run_child(request: dict[str, Any], base_path: list[str]) -> None:
    """In the forked child: become ``python -m pytest ARGS`` run in the request's directory
    with its environment, and exit with pytest's exit code."""
    os.setpgid(0, 0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    extra = [entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry]
    sys.path[:] = [request["cwd"], *extra, *base_path]
    sys.argv = [sys.executable, *request["args"]]
    code = 1
    try:
        code = int(pytest.main(request["args"]))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    raise SystemExit(code)


def _wait(child: int, timeout: float | None) -> dict[str, Any]:
    """Wait for ``child``; past ``timeout`` seconds kill its process group."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid == child:
            return {"returncode": os.waitstatus_to_exitcode(status), "timed_out": False}
        if deadline is not None and time.monotonic() >= deadline:
            try:
                os.killpg(child, 9)
            except ProcessLookupError:
                pass
            os.waitpid(child, 0)
            return {"returncode": -9, "timed_out": True}
        time.sleep(_POLL_S)
