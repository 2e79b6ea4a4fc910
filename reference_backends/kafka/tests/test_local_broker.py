"""The local broker helper: clear failures without Java or Maven, and its command line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from diaspora_stream_kafka.local_broker import BrokerUnavailable, LocalBroker, ensure_jars


def test_missing_maven_says_how_to_get_the_jars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DIASPORA_KAFKA_JARS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no mvn, no java
    with pytest.raises(BrokerUnavailable) as raised:
        ensure_jars()
    message = str(raised.value)
    assert "mvn was not found" in message
    assert "apt-get install" in message
    assert "DIASPORA_KAFKA_BOOTSTRAP_SERVERS" in message


def test_missing_java_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ensure_jars()  # cached by the session broker
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrokerUnavailable, match=r"java was not found.*Java 17"):
        LocalBroker(tmp_path / "broker").start()


def test_jar_directory_without_jars_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIASPORA_KAFKA_JARS", str(tmp_path))
    with pytest.raises(BrokerUnavailable, match=r"holds no kafka_2\.13"):
        ensure_jars()


def test_command_line_starts_reports_and_stops_a_broker(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "diaspora_stream_kafka.local_broker"]
    state = ["--state-dir", str(tmp_path / "state")]

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *arguments], capture_output=True, text=True, timeout=240, env=os.environ
        )

    assert run("status", *state).returncode == 3
    started = run("start", *state)
    assert started.returncode == 0, started.stderr
    bootstrap = started.stdout.strip()
    assert bootstrap.startswith("127.0.0.1:")
    try:
        from diaspora_stream.api import Driver

        driver = Driver(backend="kafka", options={"kafka": {"bootstrap.servers": bootstrap}})
        driver.create_topic("from-the-command-line")
        assert "from-the-command-line" in driver.list_topics()
        status = run("status", *state)
        assert status.returncode == 0 and bootstrap in status.stdout
    finally:
        stopped = run("stop", *state)
    assert stopped.returncode == 0, stopped.stderr
    assert run("status", *state).returncode == 3


def test_cluster_ids_never_look_like_options() -> None:
    from diaspora_stream_kafka.local_broker.config import new_cluster_id

    ids = [new_cluster_id() for _ in range(2000)]  # about 30 would start with "-" unfiltered
    assert all(len(cluster_id) == 22 and not cluster_id.startswith("-") for cluster_id in ids)


@pytest.mark.slow
def test_start_again_on_a_stopped_brokers_state_dir_keeps_its_port_and_topics(
    tmp_path: Path,
) -> None:
    command = [sys.executable, "-m", "diaspora_stream_kafka.local_broker"]
    state = ["--state-dir", str(tmp_path / "state")]

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *arguments], capture_output=True, text=True, timeout=240, env=os.environ
        )

    first = run("start", *state)
    assert first.returncode == 0, first.stderr
    bootstrap = first.stdout.strip()
    try:
        from diaspora_stream.api import Driver

        Driver(backend="kafka", options={"kafka": {"bootstrap.servers": bootstrap}}).create_topic(
            "kept"
        )
    finally:
        assert run("stop", *state).returncode == 0
    again = run("start", *state)
    try:
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip() == bootstrap
        driver = Driver(backend="kafka", options={"kafka": {"bootstrap.servers": bootstrap}})
        assert "kept" in driver.list_topics()
    finally:
        assert run("stop", *state).returncode == 0
    port = int(bootstrap.rpartition(":")[2])
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        refused = run("start", *state)
    assert refused.returncode != 0
    assert f"port {port}" in refused.stderr and "--port" in refused.stderr


@pytest.mark.slow
def test_test_processes_share_one_broker_started_by_the_first(tmp_path: Path) -> None:
    """``shared_broker`` (the workers of a parallel test run): concurrent callers get one broker,
    started once; ``stop_shared_broker`` stops it."""
    from concurrent.futures import ThreadPoolExecutor

    from diaspora_stream_kafka.testing import shared_broker, stop_shared_broker

    try:
        with ThreadPoolExecutor(3) as pool:
            addresses = set(pool.map(lambda _: shared_broker(tmp_path), range(3)))
        assert len(addresses) == 1
        host, port = next(iter(addresses)).rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5):
            pass
        assert shared_broker(tmp_path) in addresses  # a later caller finds it running
    finally:
        stop_shared_broker(tmp_path)
    with pytest.raises(OSError), socket.create_connection((host, int(port)), timeout=5):
        pass


def test_extra_jvm_options_reach_the_broker_but_not_the_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIASPORA_KAFKA_BROKER_JVM_OPTIONS", "-XX:TieredStopAtLevel=1 -Dprobe='a b'")
    broker = LocalBroker(tmp_path / "broker")
    command = broker._java_command("kafka.Kafka", "server.properties", broker=True)
    assert command[-2:] == ["kafka.Kafka", "server.properties"]
    assert "-XX:TieredStopAtLevel=1" in command and "-Dprobe=a b" in command
    tool = broker._java_command("kafka.tools.StorageTool", "format")
    assert "-Dprobe=a b" not in tool
    monkeypatch.delenv("DIASPORA_KAFKA_BROKER_JVM_OPTIONS")
    assert "-Dprobe=a b" not in broker._java_command("kafka.Kafka", broker=True)
