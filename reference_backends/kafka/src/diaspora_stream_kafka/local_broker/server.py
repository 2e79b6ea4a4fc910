"""Run one Apache Kafka broker (KRaft, broker and controller in one JVM) on 127.0.0.1."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from .config import LOG4J2_PROPERTIES, free_port, new_cluster_id, server_properties, stored_ports
from .errors import BrokerUnavailable
from .jars import ensure_jars, find_executable

__all__ = ["LocalBroker"]

#: JVM flags of Kafka's own start script, with a heap fit for tests on a small machine.
BROKER_JVM_OPTIONS = (
    "-Xms512m", "-Xmx1g", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:MaxInlineLevel=15", "-Djava.awt.headless=true",
)  # fmt: skip
TOOL_JVM_OPTIONS = ("-Xmx256m", "-XX:TieredStopAtLevel=1", "-Xshare:auto")
#: Environment variable of JVM flags added to the broker's (split as a shell would). The tests
#: set ``-XX:TieredStopAtLevel=1``: a broker that lives seconds spends about half the CPU time
#: without the optimizing compiler, which a long-running broker wants.
EXTRA_JVM_OPTIONS_VARIABLE = "DIASPORA_KAFKA_BROKER_JVM_OPTIONS"


def extra_jvm_options() -> tuple[str, ...]:
    """The broker JVM flags of :data:`EXTRA_JVM_OPTIONS_VARIABLE` (none when unset)."""
    return tuple(shlex.split(os.environ.get(EXTRA_JVM_OPTIONS_VARIABLE, "")))


class LocalBroker:
    """A single-node Kafka broker in a directory of its own.

    ``start()`` formats the storage (the first time), starts the JVM and returns once the admin
    API answers; ``stop()`` shuts it down cleanly (SIGTERM, then SIGKILL after a grace period);
    ``restart()`` stops and starts it again on the same ports and data, as an operator would.
    Without ``directory`` a temporary one is made and removed by ``close()``. A directory that
    already holds a broker keeps its ports: its controller port always (the KRaft quorum was
    formatted with it), its client port unless ``port`` gives another.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        start_timeout_s: float = 120.0,
        log: Callable[[str], None] = lambda _message: None,
    ) -> None:
        self._owns_directory = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="diaspora-kafka-broker-"))
        stored = stored_ports(self.directory / "server.properties")
        if stored is None:
            self.port = port or free_port()
            self.controller_port = controller_port or free_port()
        else:
            if controller_port and controller_port != stored[1]:
                raise BrokerUnavailable(
                    f"the broker in {self.directory} was formatted with controller port "
                    f"{stored[1]}, which cannot change: leave controller_port out, or use a new "
                    "directory"
                )
            self.port, self.controller_port = port or stored[0], stored[1]
        self.start_timeout_s = start_timeout_s
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ paths

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` for ``bootstrap.servers``."""
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        """The broker's log (``server.log``): read it when start-up fails."""
        return self.directory / "logs" / "server.log"

    @property
    def pid(self) -> int | None:
        """Process id of the running broker JVM, if any."""
        return None if self._process is None else self._process.pid

    def _java_command(self, main: str, *arguments: str, broker: bool = False) -> list[str]:
        jars = ensure_jars(self._log)
        options = (*BROKER_JVM_OPTIONS, *extra_jvm_options()) if broker else TOOL_JVM_OPTIONS
        return [
            find_executable("java"), *options,
            f"-Dlog4j2.configurationFile={self.directory / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.directory / 'logs'}",
            "-cp", str(jars / "*"), main, *arguments,
        ]  # fmt: skip

    # -------------------------------------------------------------- lifecycle

    def _format(self) -> None:
        """Write the configuration (with this object's ports) and, the first time, format the
        storage."""
        properties = self.directory / "server.properties"
        data = self.directory / "data"
        (self.directory / "logs").mkdir(parents=True, exist_ok=True)
        (self.directory / "log4j2.properties").write_text(LOG4J2_PROPERTIES, encoding="utf-8")
        properties.write_text(
            server_properties(data, self.port, self.controller_port), encoding="utf-8"
        )
        if (data / "meta.properties").is_file():
            return
        command = self._java_command(
            "kafka.tools.StorageTool", "format", "--standalone",
            "-t", new_cluster_id(), "-c", str(properties),
        )  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BrokerUnavailable(
                f"formatting the broker's storage in {data} failed (exit {result.returncode}): "
                f"{(result.stdout + result.stderr).strip()[-2000:]}"
            )

    def start(self) -> LocalBroker:
        """Start the broker and wait until its admin API answers."""
        if self._process is not None and self._process.poll() is None:
            return self
        self._check_ports_free()
        self._format()
        command = self._java_command(
            "kafka.Kafka", str(self.directory / "server.properties"), broker=True
        )
        output = open(self.directory / "logs" / "stdout.log", "ab")
        try:
            self._process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            output.close()
        self._log(f"Kafka broker starting on {self.bootstrap_servers} (pid {self._process.pid})")
        started = time.monotonic()
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        self._log(f"Kafka broker ready in {time.monotonic() - started:.1f} s")
        return self

    def _check_ports_free(self) -> None:
        """Fail at once, saying what to do, if another process listens on a port of ours."""
        if _accepts_connections("127.0.0.1", self.port):
            raise BrokerUnavailable(
                f"port {self.port} of 127.0.0.1, the client port of the broker in "
                f"{self.directory}, is in use by another process: stop that process, or give "
                "the broker another port (--port N on the command line, LocalBroker(port=N))"
            )
        if _accepts_connections("127.0.0.1", self.controller_port):
            raise BrokerUnavailable(
                f"port {self.controller_port} of 127.0.0.1, the controller port the broker in "
                f"{self.directory} was formatted with, is in use by another process: stop that "
                "process, or start a broker in a new directory"
            )

    def _fail_start(self, why: str) -> BrokerUnavailable:
        tail = ""
        for path in (self.log_file, self.directory / "logs" / "stdout.log"):
            if path.is_file():
                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
                tail += f"\n--- last lines of {path} ---\n" + "\n".join(lines)
        return BrokerUnavailable(f"the Kafka broker on {self.bootstrap_servers} {why}{tail}")

    def _wait_until_ready(self) -> None:
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + self.start_timeout_s
        assert self._process is not None
        while not _accepts_connections("127.0.0.1", self.port):
            if self._process.poll() is not None:
                raise self._fail_start(f"exited with status {self._process.returncode}")
            if time.monotonic() > deadline:
                raise self._fail_start(f"did not listen within {self.start_timeout_s:.0f} s")
            time.sleep(0.1)
        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers})
        while True:
            try:
                metadata = admin.list_topics(timeout=2)
                if metadata.brokers:
                    return
            except Exception:  # noqa: BLE001 - not ready yet: retried until the deadline
                pass
            if self._process.poll() is not None:
                raise self._fail_start(f"exited with status {self._process.returncode}")
            if time.monotonic() > deadline:
                raise self._fail_start(
                    f"did not answer its admin API within {self.start_timeout_s:.0f} s"
                )
            time.sleep(0.2)

    def stop(self, grace_s: float = 30.0) -> None:
        """Shut the broker down (SIGTERM; SIGKILL if it is still running after ``grace_s``)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """Kill the broker at once (SIGKILL), as a crash would."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def restart(self) -> None:
        """Stop the broker cleanly and start it again, same ports and data."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the broker and remove its directory if this object made it."""
        self.stop()
        if self._owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
