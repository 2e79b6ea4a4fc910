"""The master database (SQLite): topics, their partitions, acknowledged consumer positions,
and the partitions marked complete.

Every server process of a group opens the same database file (SQLite locks it across
processes), so any member answers topic queries and each member records the acknowledgements of
the partitions it hosts. Unlike Mofka, positions are stored durably and survive restarts.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

__all__ = ["Catalog", "TopicExistsError"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    name TEXT PRIMARY KEY,
    config BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS partitions (
    topic TEXT NOT NULL REFERENCES topics(name),
    idx INTEGER NOT NULL,
    member INTEGER NOT NULL,
    type TEXT NOT NULL,
    uuid TEXT NOT NULL,
    PRIMARY KEY (topic, idx)
);
CREATE TABLE IF NOT EXISTS acknowledgements (
    consumer TEXT NOT NULL,
    topic TEXT NOT NULL,
    idx INTEGER NOT NULL,
    event_id INTEGER NOT NULL,
    PRIMARY KEY (consumer, topic, idx)
);
CREATE TABLE IF NOT EXISTS completed (
    topic TEXT NOT NULL,
    idx INTEGER NOT NULL,
    PRIMARY KEY (topic, idx)
);
"""


#: Seconds a statement waits for another process's lock on the database.
_BUSY_TIMEOUT = 30.0


def _retry_while_locked(action: Callable[[], None]) -> None:
    """Run ``action``, again while the database is locked, for up to ``_BUSY_TIMEOUT`` s.

    Members of a group start at the same time and each switches the new database to WAL
    mode; SQLite can refuse that switch at once ("database is locked") instead of waiting
    for the other member's lock as other statements do.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT
    pause = 0.01
    while True:
        try:
            action()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


class TopicExistsError(Exception):
    """``create_topic`` of a name already in the catalog."""


class Catalog:
    """Thread-safe access to the SQLite master database."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=_BUSY_TIMEOUT, check_same_thread=False)
        _retry_while_locked(self._setup)

    def _setup(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        with self._db:
            self._db.executescript(_SCHEMA)

    def create_topic(
        self, name: str, config: dict[str, Any], partition_type: str, members: int
    ) -> list[dict[str, Any]]:
        """Add a topic; its partitions go round-robin over ``members`` server processes."""
        count = int(config["num_partitions"])
        partitions = [
            {"index": i, "member": i % members, "type": partition_type, "uuid": str(uuid.uuid4())}
            for i in range(count)
        ]
        with self._lock, self._db:
            try:
                self._db.execute(
                    "INSERT INTO topics (name, config) VALUES (?, ?)", (name, orjson.dumps(config))
                )
            except sqlite3.IntegrityError:
                raise TopicExistsError(name) from None
            self._db.executemany(
                "INSERT INTO partitions (topic, idx, member, type, uuid) VALUES (?, ?, ?, ?, ?)",
                [(name, p["index"], p["member"], p["type"], p["uuid"]) for p in partitions],
            )
        return partitions

    def topic(self, name: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """The topic's stored configuration and partitions, or ``None``."""
        with self._lock:
            row = self._db.execute("SELECT config FROM topics WHERE name = ?", (name,)).fetchone()
            if row is None:
                return None
            rows = self._db.execute(
                "SELECT idx, member, type, uuid FROM partitions WHERE topic = ? ORDER BY idx",
                (name,),
            ).fetchall()
        partitions = [{"index": i, "member": m, "type": t, "uuid": u} for i, m, t, u in rows]
        return orjson.loads(row[0]), partitions

    def topics(self) -> dict[str, dict[str, Any]]:
        """Every topic's configuration."""
        with self._lock:
            rows = self._db.execute("SELECT name, config FROM topics ORDER BY name").fetchall()
        return {name: orjson.loads(config) for name, config in rows}

    def acknowledge(self, consumer: str, topic: str, partition: int, event_id: int) -> None:
        """Durably record ``consumer``'s position in a partition; a position never moves back
        (acknowledging an older event, e.g. during a replay, changes nothing)."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO acknowledgements (consumer, topic, idx, event_id) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (consumer, topic, idx) DO UPDATE SET event_id ="
                " max(acknowledgements.event_id, excluded.event_id)",
                (consumer, topic, partition, event_id),
            )

    def acknowledgements(self, consumer: str, topic: str) -> dict[int, int]:
        """``{partition: last acknowledged id}`` of ``consumer`` in ``topic``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT idx, event_id FROM acknowledgements WHERE consumer = ? AND topic = ?",
                (consumer, topic),
            ).fetchall()
        return dict(rows)

    def consumer_names(self, topic: str) -> list[str]:
        """Every consumer name with an acknowledged position in ``topic``, sorted."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT consumer FROM acknowledgements WHERE topic = ? ORDER BY consumer",
                (topic,),
            ).fetchall()
        return [name for (name,) in rows]

    def mark_complete(self, topic: str, partition: int) -> None:
        """Durably record that a partition is complete (marking it again changes nothing)."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO completed (topic, idx) VALUES (?, ?)", (topic, partition)
            )

    def is_complete(self, topic: str, partition: int) -> bool:
        """Whether the partition was marked complete."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM completed WHERE topic = ? AND idx = ?", (topic, partition)
            ).fetchone()
        return row is not None

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
