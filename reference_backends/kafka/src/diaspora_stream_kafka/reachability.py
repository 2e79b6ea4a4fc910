"""Telling a consumer whose cluster cannot be reached from one whose topic is empty.

librdkafka retries connections for ever and its fetches just return nothing, so a consumer of
a cluster that went away would see ``None`` from every pull. It does report each failed
connection to the client's ``error_cb``: :class:`Reachability` notes when those reports began,
and once they have gone on for the bound, one metadata request decides: answered, the cluster
is back; not answered, the pull raises :class:`~.errors.KafkaUnreachable`.

Records a poll returns are no sign that the cluster answers: librdkafka may have fetched them
before the failures began. Only that metadata request clears the failures, since librdkafka
reports a repeated identical connection failure once, not at every retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError, KafkaException

from .errors import KafkaUnreachable, kafka_error_of

__all__ = ["PROBE_TIMEOUT_S", "Reachability"]

#: How long the confirming metadata request may take.
PROBE_TIMEOUT_S = 2.0
_CONNECTION_FAILURES = {KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._RESOLVE}


class Reachability:
    """Whether a client's cluster answers, as far as its connection failures tell.

    ``bound_s``: how long failures may go on before :meth:`check` asks the cluster and raises
    if it does not answer; ``probe(timeout_s)``: a metadata request of the client, raising
    ``KafkaException`` if the cluster does not answer; ``describe``: what the client is, for
    the error message.
    """

    def __init__(
        self,
        bound_s: float,
        probe: Callable[[float], Any],
        describe: str,
        bootstrap_servers: str,
        chained: Callable[[KafkaError], Any] | None = None,
    ) -> None:
        self.bound_s = bound_s
        self._probe = probe
        self._describe = describe
        self._bootstrap = bootstrap_servers
        self._chained = chained
        self._failing_since: float | None = None

    def on_error(self, error: KafkaError) -> None:
        """librdkafka's ``error_cb``: note when connection failures began."""
        if error.code() in _CONNECTION_FAILURES and self._failing_since is None:
            self._failing_since = time.monotonic()
        if self._chained is not None:
            self._chained(error)

    def check(self) -> None:
        """Raise :class:`KafkaUnreachable` if connections have failed for ``bound_s`` and the
        cluster does not answer a metadata request now."""
        since = self._failing_since
        if since is None or time.monotonic() - since < self.bound_s:
            return
        try:
            self._probe(PROBE_TIMEOUT_S)
        except KafkaException as error:
            kafka_error = kafka_error_of(error)
            reason = kafka_error.str() if kafka_error is not None else str(error)
            failing_s = time.monotonic() - since
            raise KafkaUnreachable(
                f"{self._describe}: the Kafka cluster at bootstrap.servers={self._bootstrap} "
                f"has not been reachable for {failing_s:.0f} s ({reason}); check that its "
                "brokers run and can be reached from here, then pull again (the driver's "
                "timeout_ms option sets how long a consumer waits before saying so)"
            ) from None
        self._failing_since = None
