"""The ``binding`` driver's options, and the foreign module they name."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, fields
from importlib import metadata as importlib_metadata
from types import ModuleType
from typing import Any

from ...backend.capabilities import Capabilities
from ...exceptions import Exception as DiasporaException

__all__ = ["BindingSettings", "DEFAULT_MODULE", "module_version"]

#: The C++ reference's compiled binding.
DEFAULT_MODULE = "pydiaspora_stream_api"
_KEYS = ("module", "backend", "options", "capabilities")
#: What the foreign module must provide for the bridge to use it.
_REQUIRED_NAMES = ("Driver", "Exception", "DataDescriptor", "Validator", "Ordering")
#: What the bridge declares for a foreign driver when told nothing.
_NONE_DECLARED = Capabilities(
    persistent_topics=False,
    acknowledgements=False,
    persistent_acknowledgements=False,
    multi_process_producers=False,
    partial_data_reads=False,
    durable_flush=False,
)


@dataclass(frozen=True)
class BindingSettings:
    """``{"module": ..., "backend": ..., "options": {...}, "capabilities": {...}}``."""

    backend: str
    module: str = DEFAULT_MODULE
    options: dict[str, Any] = field(default_factory=dict)
    capabilities: Capabilities = field(default_factory=lambda: _NONE_DECLARED)

    @classmethod
    def parse(cls, options: dict[str, Any]) -> BindingSettings:
        """Check the driver options; raise ``Exception`` saying what is wrong."""
        unknown = sorted(set(options) - set(_KEYS))
        if unknown:
            raise DiasporaException(
                f"binding driver: unknown option(s) {', '.join(map(repr, unknown))}; it takes "
                f"{', '.join(_KEYS)}"
            )
        backend = options.get("backend")
        if not isinstance(backend, str) or not backend:
            raise DiasporaException(
                "binding driver: option 'backend' (the foreign module's driver name, e.g. "
                f'"files" or "mofka:libmofka-diaspora.so") must be a non-empty string, got '
                f"{backend!r}"
            )
        module = options.get("module", DEFAULT_MODULE)
        if not isinstance(module, str) or not module:
            raise DiasporaException(
                f"binding driver: option 'module' must be a module name, got {module!r}"
            )
        foreign_options = options.get("options", {})
        if not isinstance(foreign_options, dict):
            raise DiasporaException(
                "binding driver: option 'options' (passed to the foreign Driver) must be a JSON "
                f"object, got {type(foreign_options).__name__}"
            )
        return cls(backend, module, dict(foreign_options), _capabilities(options))

    def import_module(self) -> ModuleType:
        """The foreign module, checked for the binding's names."""
        try:
            module = importlib.import_module(self.module)
        except ImportError as error:
            raise DiasporaException(
                f"binding driver: cannot import module {self.module!r} ({error}); install the "
                "binding (or put the directory holding it on PYTHONPATH), or name another module "
                "with the option 'module'"
            ) from error
        missing = [name for name in _REQUIRED_NAMES if not hasattr(module, name)]
        if missing:
            raise DiasporaException(
                f"binding driver: module {self.module!r} ({getattr(module, '__file__', '?')}) "
                f"lacks {', '.join(missing)}: it is not a Diaspora Stream binding"
            )
        return module


def _capabilities(options: dict[str, Any]) -> Capabilities:
    declared = options.get("capabilities", {})
    if not isinstance(declared, dict):
        raise DiasporaException(
            "binding driver: option 'capabilities' must be a JSON object of booleans, got "
            f"{type(declared).__name__}"
        )
    names = [item.name for item in fields(Capabilities)]
    for key, value in declared.items():
        if key not in names:
            raise DiasporaException(
                f"binding driver: unknown capability {key!r}; known: {', '.join(names)}"
            )
        if not isinstance(value, bool):
            raise DiasporaException(
                f"binding driver: capability {key!r} must be true or false, got {value!r}"
            )
    return Capabilities(**{name: bool(declared.get(name, False)) for name in names})


def module_version(module: ModuleType) -> str | None:
    """The foreign module's version: its ``__version__``, else its distribution's, else None."""
    version = getattr(module, "__version__", None)
    if isinstance(version, str) and version:
        return version
    top_level = module.__name__.partition(".")[0]
    for distribution in importlib_metadata.packages_distributions().get(top_level, []):
        try:
            return importlib_metadata.version(distribution)
        except importlib_metadata.PackageNotFoundError:
            continue
    return None
