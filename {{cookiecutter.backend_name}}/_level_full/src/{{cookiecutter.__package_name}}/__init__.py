"""The ``{{ cookiecutter.backend_name }}`` backend of diaspora-stream.

{{ (cookiecutter.__short_description_quoted.rstrip('.') ~ '.') | wordwrap(96) }}

A full-level backend (see ``diaspora_stream.backend.full``): this package owns its producers
(batching, sending, futures) and consumers (the feed of events, acknowledgements), with
diaspora-stream's shared helpers for what every backend does the same way (validation,
serialization, data selection, loss accounting). Registered as ``{{ cookiecutter.backend_name }}``
in the ``diaspora_stream.drivers`` entry point group, so
``Driver(backend="{{ cookiecutter.backend_name }}")`` finds it once the package is installed.

As generated, its engine is an in-process stand-in. Replace it piece by piece: look for
``CHANGE ME`` in ``driver.py`` (options, capabilities, topics), ``producer.py`` (sending a
batch), ``consumer.py`` (fetching, waiting, acknowledging), ``topic.py`` and ``engine.py`` (the
stand-in for your engine).
"""

from __future__ import annotations

from .consumer import {{ cookiecutter.title }}Consumer
from .driver import {{ cookiecutter.title }}Driver
from .producer import {{ cookiecutter.title }}Producer
from .topic import {{ cookiecutter.title }}Topic

__all__ = [
    "{{ cookiecutter.title }}Consumer",
    "{{ cookiecutter.title }}Driver",
    "{{ cookiecutter.title }}Producer",
    "{{ cookiecutter.title }}Topic",
]

__version__ = "0.1.0"
