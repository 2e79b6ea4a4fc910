"""The broker's jars: resolved from Maven Central with the packaged ``pom.xml``, cached."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from .errors import HOW_TO_GET_A_BROKER, BrokerUnavailable

__all__ = ["JARS_VARIABLE", "KAFKA_VERSION", "ensure_jars", "find_executable", "jar_directory"]

#: The Apache Kafka release the broker runs (pinned in ``pom.xml``).
KAFKA_VERSION = "4.1.1"
#: A directory of jars to use as they are, instead of the cache.
JARS_VARIABLE = "DIASPORA_KAFKA_JARS"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
_COMPLETE = ".complete"
_MAVEN_TIMEOUT_S = 900


def jar_directory() -> Path:
    """Where the jars are: ``$DIASPORA_KAFKA_JARS``, else a per-user cache directory."""
    configured = os.environ.get(JARS_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "diaspora-stream" / f"kafka-broker-{KAFKA_VERSION}"


def find_executable(name: str) -> str:
    """Path of ``java`` (``$JAVA_HOME/bin`` first) or ``mvn``; raise if it is missing."""
    java_home = os.environ.get("JAVA_HOME")
    if name == "java" and java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which(name)
    if found is None:
        raise BrokerUnavailable(f"{name} was not found: {HOW_TO_GET_A_BROKER}")
    return found


def _has_jars(directory: Path) -> bool:
    return (directory / _COMPLETE).is_file() or (
        os.environ.get(JARS_VARIABLE) is not None and any(directory.glob("kafka_2.13-*.jar"))
    )


def ensure_jars(log: Callable[[str], None] = lambda _message: None) -> Path:
    """The directory of the broker's jars, fetching them with Maven the first time.

    The jars are copied into a temporary directory next to the cache, then moved into place,
    so an interrupted download never leaves a half-filled cache behind.
    """
    directory = jar_directory()
    if _has_jars(directory):
        return directory
    if os.environ.get(JARS_VARIABLE):
        raise BrokerUnavailable(
            f"{JARS_VARIABLE}={directory} holds no kafka_2.13-*.jar: point it at a directory of "
            "the broker's jars, or unset it to use the cache"
        )
    maven = find_executable("mvn")
    directory.parent.mkdir(parents=True, exist_ok=True)
    log(f"fetching the Apache Kafka {KAFKA_VERSION} broker jars from Maven Central")
    with tempfile.TemporaryDirectory(dir=directory.parent, prefix=".fetch-") as scratch:
        target = Path(scratch) / "libs"
        with resources.as_file(resources.files(__package__) / "pom.xml") as pom:
            command = [
                maven, "-B", "-q", "-f", str(pom),
                f"{DEPENDENCY_PLUGIN}:copy-dependencies",
                "-DincludeScope=runtime", f"-DoutputDirectory={target}",
            ]  # fmt: skip
            try:
                result = subprocess.run(
                    command, capture_output=True, text=True, timeout=_MAVEN_TIMEOUT_S, check=False
                )
            except subprocess.TimeoutExpired:
                raise BrokerUnavailable(
                    f"Maven did not fetch the Kafka jars within {_MAVEN_TIMEOUT_S} s; check the "
                    "connection to Maven Central and retry"
                ) from None
        if result.returncode != 0 or not any(target.glob("kafka_2.13-*.jar")):
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise BrokerUnavailable(
                f"Maven could not fetch the Kafka jars (exit {result.returncode}):\n{tail}\n"
                f"Retry, or {HOW_TO_GET_A_BROKER}"
            )
        (target / _COMPLETE).write_text(KAFKA_VERSION + "\n", encoding="utf-8")
        if directory.exists():
            shutil.rmtree(directory)
        target.rename(directory)
    log(f"Kafka broker jars in {directory}")
    return directory
