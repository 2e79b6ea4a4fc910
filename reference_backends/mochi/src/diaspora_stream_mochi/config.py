"""Server configuration files and group files.

A configuration file (JSON, or YAML when PyYAML is installed) describes one service::

    {"root": "mochi-data",          # data directory: partitions, catalog.sqlite, logs
     "group_file": "mochi-group.json",  # written at start, read by clients (driver option)
     "host": "127.0.0.1",           # listening address (loopback by default)
     "port": 0,                     # first port (member i listens on port + i); 0: any port
     "servers": 1,                  # server processes; partitions go round-robin over them
     "sync": true,                  # fdatasync the chunk before acknowledging a batch
     "chunk_size": 268435456,       # bytes per chunk file
     "memory_reserve": 0,           # bytes each member pre-faults for memory partitions' data
     "access_token": true,          # clients must present the service's secret token
     "max_shared_bytes": 1073741824,  # largest shared memory a client may hand a member
     "max_frame_header": 1048576,     # longest frame header (JSON) a member accepts
     "max_request_payload": 268435456,  # longest request payload (size tables, metadata)
     "max_batch_data": 1073741824}    # most data bytes one append may announce

Relative paths are relative to the configuration file's directory. The group file lists the
members (``{"members": [{"address": "tcp://127.0.0.1:PORT", "local": NAME, "rank": 0,
"pid": PID}, ...], "token": SECRET}``), as Mofka's Flock group file does; ``local`` names the
member's Unix socket (abstract namespace) for clients on its node. It is written readable by
its owner only: it holds the access token.
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

__all__ = [
    "PARTITION_TYPES",
    "GroupMember",
    "ServerConfig",
    "read_group_file",
    "read_token",
    "write_group_file",
]

#: Values of the ``type`` topic option: file partitions (chunk files) or memory partitions.
PARTITION_TYPES = ("default", "memory")

_KEYS = {
    "root",
    "group_file",
    "host",
    "port",
    "servers",
    "sync",
    "chunk_size",
    "memory_reserve",
    "access_token",
    "max_shared_bytes",
    "max_frame_header",
    "max_request_payload",
    "max_batch_data",
}
#: Defaults of the limits on what a client may announce (see :mod:`.limits`).
DEFAULT_MAX_FRAME_HEADER = 1 << 20
DEFAULT_MAX_REQUEST_PAYLOAD = 256 << 20
DEFAULT_MAX_BATCH_DATA = 1 << 30


@dataclass(frozen=True)
class ServerConfig:
    """A parsed configuration file (paths absolute)."""

    root: Path
    group_file: Path
    host: str = "127.0.0.1"
    port: int = 0
    servers: int = 1
    sync: bool = True
    chunk_size: int = 256 * 1024 * 1024
    #: Bytes each member maps and faults in at start for memory partitions' data (0: none).
    memory_reserve: int = 0
    #: Whether clients must present the secret token of the group file.
    access_token: bool = True
    #: Largest shared memory area (memfd) a client may hand a member.
    max_shared_bytes: int = 1 << 30
    #: Longest frame header a client may announce (checked before it is read).
    max_frame_header: int = DEFAULT_MAX_FRAME_HEADER
    #: Longest request payload (an append's size tables and metadata) a client may announce.
    max_request_payload: int = DEFAULT_MAX_REQUEST_PAYLOAD
    #: Most data bytes one append may announce (on either data path).
    max_batch_data: int = DEFAULT_MAX_BATCH_DATA

    @classmethod
    def load(cls, path: Path) -> ServerConfig:
        """Read and check a configuration file."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigurationError(f"cannot read configuration file {path}: {error}") from None
        data = _parse(text, path)
        config = cls.from_dict(data, path.resolve().parent)
        if config.group_file == path.resolve():
            raise ConfigurationError(
                f"configuration key 'group_file' names the configuration file itself ({path}): "
                "the service would overwrite its configuration with the group file; give the "
                "group file another name (e.g. mochi-group.json beside mochi-service.json)"
            )
        return config

    @classmethod
    def from_dict(cls, data: dict[str, Any], base: Path) -> ServerConfig:
        """Check a configuration object; resolve paths against ``base``."""
        unknown = set(data) - _KEYS
        if unknown:
            raise ConfigurationError(
                f"unknown configuration keys {sorted(unknown)}; known keys: {sorted(_KEYS)}"
            )
        for key in ("root", "group_file"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise ConfigurationError(f"configuration key {key!r} must be a non-empty path")
        config = cls(
            root=(base / data["root"]).resolve(),
            group_file=(base / data["group_file"]).resolve(),
            host=data.get("host", "127.0.0.1"),
            port=data.get("port", 0),
            servers=data.get("servers", 1),
            sync=data.get("sync", True),
            chunk_size=data.get("chunk_size", 256 * 1024 * 1024),
            memory_reserve=data.get("memory_reserve", 0),
            access_token=data.get("access_token", True),
            max_shared_bytes=data.get("max_shared_bytes", 1 << 30),
            max_frame_header=data.get("max_frame_header", DEFAULT_MAX_FRAME_HEADER),
            max_request_payload=data.get("max_request_payload", DEFAULT_MAX_REQUEST_PAYLOAD),
            max_batch_data=data.get("max_batch_data", DEFAULT_MAX_BATCH_DATA),
        )
        if not isinstance(config.host, str):
            raise ConfigurationError("configuration key 'host' must be a string")
        for key, low in (
            ("port", 0),
            ("servers", 1),
            ("chunk_size", 4096),
            ("memory_reserve", 0),
            ("max_shared_bytes", 4096),
            ("max_frame_header", 4096),
            ("max_request_payload", 4096),
            ("max_batch_data", 4096),
        ):
            value = getattr(config, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigurationError(f"configuration key {key!r} must be an integer >= {low}")
        for key in ("sync", "access_token"):
            if not isinstance(getattr(config, key), bool):
                raise ConfigurationError(f"configuration key {key!r} must be true or false")
        if not config.access_token and not _loopback(config.host):
            raise ConfigurationError(
                f"configuration key 'access_token' is false while 'host' is {config.host!r}: "
                "anyone who reaches that address could read and write every topic; keep the "
                "access token on (the default) or listen on a loopback address"
            )
        return config

    def as_dict(self) -> dict[str, Any]:
        """JSON form (passed to server processes)."""
        return {
            "root": str(self.root),
            "group_file": str(self.group_file),
            "host": self.host,
            "port": self.port,
            "servers": self.servers,
            "sync": self.sync,
            "chunk_size": self.chunk_size,
            "memory_reserve": self.memory_reserve,
            "access_token": self.access_token,
            "max_shared_bytes": self.max_shared_bytes,
            "max_frame_header": self.max_frame_header,
            "max_request_payload": self.max_request_payload,
            "max_batch_data": self.max_batch_data,
        }


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse(text: str, path: Path) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as json_error:
        try:
            import yaml

            data = yaml.safe_load(text)
        except ImportError:
            raise ConfigurationError(f"{path} is not valid JSON: {json_error}") from None
        except yaml.YAMLError as error:
            raise ConfigurationError(f"{path} is neither JSON nor YAML: {error}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path} must hold an object (mapping) of settings")
    return data


@dataclass(frozen=True)
class GroupMember:
    """One server process of a group."""

    address: str
    rank: int
    pid: int
    #: Name of the member's Unix socket (abstract namespace); empty if it has none.
    local: str = ""

    @property
    def host_port(self) -> tuple[str, int]:
        """``(host, port)`` of a ``tcp://host:port`` address."""
        rest = self.address.removeprefix("tcp://")
        host, _, port = rest.rpartition(":")
        return host, int(port)


def write_group_file(
    path: Path, members: list[GroupMember], root: Path, token: str | None = None
) -> None:
    """Write the group file atomically, readable by its owner only (it holds the token)."""
    data: dict[str, Any] = {
        "members": [
            {"address": m.address, "local": m.local, "rank": m.rank, "pid": m.pid} for m in members
        ],
        "root": str(root),
    }
    if token is not None:
        data["token"] = token
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(json.dumps(data, indent=2) + "\n")
    os.replace(temporary, path)


def read_token(path: Path) -> str | None:
    """The access token a group file holds (``None`` if it has none or cannot be read)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    token = data.get("token") if isinstance(data, dict) else None
    return token if isinstance(token, str) else None


def read_group_file(path: Path) -> list[GroupMember]:
    """The members listed in a group file, by rank."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(
            f"group file {path} does not exist: start the server with "
            "'diaspora-mochi start --config FILE' (it writes the group file), or fix the "
            "driver option group_file"
        ) from None
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigurationError(f"cannot read group file {path}: {error}") from None
    members = data.get("members") if isinstance(data, dict) else None
    if not isinstance(members, list) or not members:
        raise ConfigurationError(f"group file {path} has no 'members' list")
    result = []
    for entry in members:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("address"), str)
            and entry["address"].startswith("tcp://")
            and isinstance(entry.get("rank"), int)
        ):
            raise ConfigurationError(
                f"group file {path}: each member needs 'address' (tcp://host:port) and 'rank'"
            )
        local = entry.get("local")
        result.append(
            GroupMember(
                entry["address"],
                entry["rank"],
                int(entry.get("pid", 0)),
                local if isinstance(local, str) else "",
            )
        )
    result.sort(key=lambda member: member.rank)
    if [member.rank for member in result] != list(range(len(result))):
        raise ConfigurationError(f"group file {path}: member ranks must be 0..N-1")
    return result
