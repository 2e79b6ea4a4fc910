"""The ``binding`` backend: a bridge to any implementation of the Diaspora Stream Python API.

It loads a module that exposes the API with the C++ binding's names and conventions
(``pydiaspora_stream_api`` by default), creates its ``Driver(backend=..., options=...)`` and
adapts its objects to the full-level backend interface, so that the conformance suite, the
benchmarks and ``diaspora-ctl`` judge C++ drivers (the reference's ``files``, Mofka, drivers built
from the C++ template) like Python backends. See ``docs/other-languages.md``.
"""

from __future__ import annotations

from .driver import BindingDriver
from .settings import DEFAULT_MODULE, BindingSettings

__all__ = ["BindingDriver", "BindingSettings", "DEFAULT_MODULE"]
