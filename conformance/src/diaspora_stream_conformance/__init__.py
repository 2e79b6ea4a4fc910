"""Conformance suite of the Diaspora Stream API.

Run it without code (``pytest --pyargs diaspora_stream_conformance --diaspora-backend NAME``) or
subclass :class:`ConformanceSuite` in your own tests and override the ``diaspora_backend``
fixture.
"""

from __future__ import annotations

from .backend import BackendUnderTest
from .levels import MAY, MUST, SHOULD, requires

__version__ = "0.4.0"

__all__ = ["MAY", "MUST", "SHOULD", "BackendUnderTest", "__version__", "requires"]
