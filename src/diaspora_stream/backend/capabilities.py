"""What a backend declares it can do; the conformance suite tests each declared capability."""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["Capabilities"]


@dataclass(frozen=True)
class Capabilities:
    """Capabilities of a backend.

    A capability declared ``False`` must make the corresponding operation raise
    :class:`~diaspora_stream.exceptions.UnsupportedError` rather than half-work.
    """

    #: Topics survive the driver object: a new driver with the same options sees them.
    persistent_topics: bool = False
    #: ``event.acknowledge()`` is recorded; a consumer re-created with the same name resumes
    #: after the last acknowledged event of each partition.
    acknowledgements: bool = True
    #: Acknowledged positions survive the driver object (and the process).
    persistent_acknowledgements: bool = False
    #: Producers in several processes may append to one partition at once.
    multi_process_producers: bool = False
    #: Only the selected byte ranges of an event's data are read from storage.
    partial_data_reads: bool = True
    #: A completed ``flush()`` means the events are on stable storage.
    durable_flush: bool = False
    #: A partition or the whole topic can be marked complete (``TopicHandle.mark_complete``);
    #: consumers then get the end-of-stream sentinel after its last event, and pushing to a
    #: completed partition fails. Third-party backends: absent unless declared.
    end_of_stream: bool = False
    #: Consumers start at the beginning, at the end, at their acknowledged position or at given
    #: event ids (``TopicHandle.consumer(start=...)``) and move with ``Consumer.seek``.
    replay: bool = False
    #: A consumer name's acknowledged positions can be read without a consumer
    #: (``TopicHandle.acknowledged_positions``) and the names the topic knows listed
    #: (``TopicHandle.consumer_names``).
    consumer_positions: bool = False

    def as_dict(self) -> dict[str, bool]:
        """Return the capabilities as a plain dict (for reports)."""
        return {field.name: getattr(self, field.name) for field in fields(self)}
