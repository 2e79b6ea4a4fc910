"""The ``mochi`` backend of diaspora-stream: a Mofka-architecture service with zero-copy data.

A server (``diaspora-mochi start``) hosts partitions (append-only chunk files with an index, or
memory) and keeps topics and acknowledged positions in SQLite; it writes a group file that
clients read (driver option ``group_file``). Producers send one RPC per batch with the batch's
metadata and the addresses of its data, and the server pulls the data itself (cross-memory
attach on one node, a bulk TCP stream otherwise). Consumers are fed server-pushed metadata
batches under credit-based flow control and fetch only the selected byte ranges, per batch.

The client is a log-level backend (``diaspora_stream.backend.log``): diaspora-stream supplies
producers, consumers, batching, ordering and futures on top. Registered as ``mochi`` in the
``diaspora_stream.drivers`` entry point group.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MochiDriver", "MochiTopic"]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The server process imports this package without the client side.
    if name in __all__:
        from . import driver

        return getattr(driver, name)
    raise AttributeError(name)
