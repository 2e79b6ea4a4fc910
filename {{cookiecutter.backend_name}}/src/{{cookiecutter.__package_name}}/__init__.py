"""The ``{{ cookiecutter.backend_name }}`` backend of diaspora-stream.

{{ (cookiecutter.__short_description_quoted.rstrip('.') ~ '.') | wordwrap(96) }}

A log-level backend (see ``diaspora_stream.backend.log``): this package stores events, and the
diaspora-stream package supplies producers, consumers, batching, ordering, futures and thread
pools on top. Registered as ``{{ cookiecutter.backend_name }}`` in the ``diaspora_stream.drivers``
entry point group, so ``Driver(backend="{{ cookiecutter.backend_name }}")`` finds it once the
package is installed.

As generated, it keeps every partition in memory. Replace it piece by piece: look for
``CHANGE ME`` in ``driver.py`` (options, capabilities, topics), ``topic.py`` (the storage
primitives) and ``state.py`` (the in-memory stand-in for your engine).
"""

from __future__ import annotations

from .driver import {{ cookiecutter.title }}Driver
from .topic import {{ cookiecutter.title }}Topic

__all__ = ["{{ cookiecutter.title }}Driver", "{{ cookiecutter.title }}Topic"]

__version__ = "0.1.0"
