"""The ``files`` backend of diaspora-stream: topics as directories of plain files.

Byte-compatible with the C++ reference files driver (a topic written by one is read by the
other); crash-safe (a writer killed at any instant leaves every completed append readable and
no partial event visible); several threads, handles and processes may append to one partition.
Registered as ``files`` in the ``diaspora_stream.drivers`` entry point group.
"""

from __future__ import annotations

from .driver import FilesDriver
from .topic import FilesTopic

__all__ = ["FilesDriver", "FilesTopic"]

__version__ = "0.1.0"
