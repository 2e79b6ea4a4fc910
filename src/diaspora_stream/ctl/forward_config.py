"""The YAML configuration of ``diaspora-ctl forward`` (reference-api.md §7.7).

::

    drivers:                      # required mapping; key = driver alias
      <alias>:
        type: <driver name>       # required (e.g. files, or name:python.module)
        options: <mapping>        # optional driver options
    forward:                      # required sequence of policies
      - from: <alias>/<topic>     # required
        to:   <alias>/<topic>     # required
        data_selector:  <python.module>:<function>   # optional
        data_allocator: <python.module>:<function>   # optional

Values follow YAML's own typing (a quoted ``"9092"`` stays a string, unlike the reference).
Unknown keys are errors, so that a misspelt key does not silently change the behaviour.
"""

from __future__ import annotations

import base64
import datetime
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import CommandError, one_line

__all__ = ["DriverSpec", "ForwardConfig", "PolicySpec", "load_forward_config", "load_plugin"]

_DRIVER_KEYS = ("type", "options")
_POLICY_KEYS = ("from", "to", "data_selector", "data_allocator")
_TOP_KEYS = ("drivers", "forward")


@dataclass(frozen=True)
class DriverSpec:
    """One entry of ``drivers``."""

    alias: str
    type: str
    options: dict[str, Any]


@dataclass(frozen=True)
class PolicySpec:
    """One entry of ``forward``."""

    source_alias: str
    source_topic: str
    destination_alias: str
    destination_topic: str
    data_selector: str | None = None
    data_allocator: str | None = None

    @property
    def source(self) -> str:
        """``alias/topic`` of the source."""
        return f"{self.source_alias}/{self.source_topic}"

    @property
    def destination(self) -> str:
        """``alias/topic`` of the destination."""
        return f"{self.destination_alias}/{self.destination_topic}"

    @property
    def label(self) -> str:
        """``a/x -> b/y``, as logged."""
        return f"{self.source} -> {self.destination}"

    @property
    def consumer_name(self) -> str:
        """Name of the policy's consumer (its acknowledgements make restarts resume)."""
        return f"{self.source}->{self.destination}"


@dataclass(frozen=True)
class ForwardConfig:
    """The checked configuration."""

    drivers: dict[str, DriverSpec]
    policies: list[PolicySpec]


def to_json(value: Any) -> Any:
    """A YAML value as plain JSON types (keys become strings, timestamps ISO text)."""
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_json(item) for item in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _topic_reference(reference: Any, drivers: dict[str, DriverSpec]) -> tuple[str, str]:
    text = str(reference) if reference is not None else ""
    alias, separator, topic = text.partition("/")
    if not separator or not alias or not topic:
        raise CommandError(f"Invalid topic reference '{text}': expected 'driver/topic'")
    if alias not in drivers:
        raise CommandError(f"Unknown driver '{alias}' in '{text}' (known: {', '.join(drivers)})")
    return alias, topic


def _unknown_keys(entry: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in entry:
        if key not in known:
            raise CommandError(f"Unknown key '{key}' in {where} (known: {', '.join(known)})")


def _drivers(section: Any) -> dict[str, DriverSpec]:
    if not isinstance(section, dict) or not section:
        raise CommandError("Config missing 'drivers' section (a mapping of driver aliases)")
    drivers = {}
    for alias, entry in section.items():
        alias = str(alias)
        if not isinstance(entry, dict) or not entry.get("type"):
            raise CommandError(f"Driver '{alias}' missing required 'type' field")
        _unknown_keys(entry, _DRIVER_KEYS, f"driver '{alias}'")
        options = entry.get("options") or {}
        if not isinstance(options, dict):
            raise CommandError(f"Driver '{alias}': 'options' must be a mapping")
        drivers[alias] = DriverSpec(alias, str(entry["type"]), to_json(options))
    return drivers


def _policies(section: Any, drivers: dict[str, DriverSpec]) -> list[PolicySpec]:
    if not isinstance(section, list) or not section:
        raise CommandError("Config missing 'forward' entries (a list of from/to policies)")
    policies = []
    for number, entry in enumerate(section, start=1):
        if not isinstance(entry, dict) or "from" not in entry or "to" not in entry:
            raise CommandError(f"forward entry missing 'from' or 'to' field (entry {number})")
        _unknown_keys(entry, _POLICY_KEYS, f"forward entry {number}")
        source = _topic_reference(entry["from"], drivers)
        destination = _topic_reference(entry["to"], drivers)
        plugins = {}
        for key in ("data_selector", "data_allocator"):
            spec = entry.get(key)
            if spec is not None:
                _split_plugin_spec(str(spec))  # checked now, loaded later
                plugins[key] = str(spec)
        policies.append(PolicySpec(*source, *destination, **plugins))
    return policies


def load_forward_config(path: str) -> ForwardConfig:
    """Read and check the YAML file ``path``."""
    import yaml

    try:
        with open(path, encoding="utf-8") as stream:
            document = yaml.safe_load(stream)
    except OSError as error:
        raise CommandError(
            f"Failed to open config file: {path}: {error.strerror or error}"
        ) from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise CommandError(f"Failed to parse YAML config: {one_line(error)}") from None
    if not isinstance(document, dict):
        raise CommandError(f"Config file {path} must hold a mapping with 'drivers' and 'forward'")
    _unknown_keys(document, _TOP_KEYS, f"config file {path}")
    drivers = _drivers(document.get("drivers"))
    return ForwardConfig(drivers, _policies(document.get("forward"), drivers))


def _split_plugin_spec(spec: str) -> tuple[str, str]:
    module, separator, function = spec.partition(":")
    if not separator or not module or not function:
        raise CommandError(f"Invalid plugin spec '{spec}': expected 'python.module:function'")
    return module, function


def load_plugin(spec: str) -> Callable[..., Any]:
    """The callable named by ``python.module:function`` (dots in ``function`` walk
    attributes, e.g. ``module:Class.method``)."""
    module_name, function = _split_plugin_spec(spec)
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - reported as one line
        raise CommandError(
            f"Failed to import module '{module_name}' for plugin '{spec}': {one_line(error)}"
        ) from None
    for attribute in function.split("."):
        try:
            target = getattr(target, attribute)
        except AttributeError:
            raise CommandError(
                f"Plugin function '{function}' not found in module '{module_name}'"
            ) from None
    if not callable(target):
        raise CommandError(f"Plugin '{spec}' is not callable")
    return target
