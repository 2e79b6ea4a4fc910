"""Test helpers: a mochi service in a temporary directory, started and stopped for tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from diaspora_stream_mochi import service
from diaspora_stream_mochi.config import ServerConfig

#: Environment variable through which the session's service reaches the conformance wiring.
GROUP_FILE_VARIABLE = "DIASPORA_MOCHI_GROUP_FILE"


def service_config(directory: Path, **settings: Any) -> ServerConfig:
    """Write a configuration file in ``directory`` and load it."""
    directory.mkdir(parents=True, exist_ok=True)
    data = {"root": "data", "group_file": "mochi.json", **settings}
    path = directory / "mochi.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")
    return ServerConfig.load(path)


class RunningService:
    """A started service; ``stop()``/``start()`` restart it on the same data."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.members = service.start(config)

    @property
    def group_file(self) -> str:
        """The group file, as the driver option wants it."""
        return str(self.config.group_file)

    def options(self, **extra: Any) -> dict[str, Any]:
        """Driver options for this service."""
        return {"group_file": self.group_file, **extra}

    def start(self) -> None:
        """Start again after ``stop`` or ``kill``."""
        self.members = service.start(self.config)

    def stop(self) -> None:
        """Stop cleanly (SIGTERM)."""
        if self.config.group_file.exists():
            service.stop(self.config)

    def kill(self) -> None:
        """SIGKILL every member (a crash); the group file stays, stale."""
        import os
        import signal

        pids = [member.pid for member in self.members]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        if not service.wait_stopped(pids, 10.0):
            raise RuntimeError(f"server processes {pids} survived SIGKILL")
