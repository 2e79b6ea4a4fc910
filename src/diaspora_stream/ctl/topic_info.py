"""``diaspora-ctl topic info NAME``: partitions, event counts, components, consumer positions.

Everything comes from the public API. Events are counted by reading the topic with a consumer
of a unique throwaway name that fetches no data and acknowledges nothing. On a backend with the
``consumer_positions`` capability, every consumer name the topic knows is shown (or the names
given with ``--consumer NAME``), with positions read without creating a consumer. On others the
names must be given: the position of a name in a partition is found by creating a consumer of
that name restricted to the partition and looking at the id of the first event it would get.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from ..api import Driver, TopicHandle
from .common import compact_json, make_driver
from .errors import CommandError, one_line
from .log import setup_logging
from .options import extract_hierarchical, merged_config
from .parsing import HIERARCHICAL_HELP, ArgumentParser, add_driver_arguments, add_logging_argument

__all__ = ["info_command", "count_events", "consumer_position", "topic_report"]

DEFAULT_WAIT_MS = 100


def _parser() -> ArgumentParser:
    parser = ArgumentParser(
        "diaspora-ctl topic info",
        "Show a topic's partitions, event count per partition, components, and the positions "
        "of the named consumers.",
        epilog=HIERARCHICAL_HELP + "\n\nexample:\n  diaspora-ctl topic info t --driver files "
        "--driver.root_path /tmp/x --consumer my-consumer",
    )
    parser.add_argument("topic", nargs="?", metavar="NAME", help="name of the topic")
    parser.add_argument("--name", dest="name_option", metavar="TOPIC", help="same as NAME")
    add_driver_arguments(parser)
    parser.add_argument(
        "--consumer",
        action="append",
        default=[],
        metavar="NAME",
        help="show where the consumer NAME resumes in each partition (repeatable); default: "
        "every name the topic knows, on backends that can list them (consumer_positions)",
    )
    parser.add_argument(
        "--wait-ms",
        type=int,
        default=DEFAULT_WAIT_MS,
        metavar="MS",
        help=f"how long to wait for one more event before a partition counts as read to its "
        f"end (default: {DEFAULT_WAIT_MS})",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_logging_argument(parser)
    return parser


def count_events(topic: TopicHandle, wait_ms: int = DEFAULT_WAIT_MS) -> list[int]:
    """Number of events of each partition of ``topic``, read with a throwaway consumer."""
    counts = [0] * len(topic.partitions)
    consumer = topic.consumer(f"diaspora-ctl-info-{uuid.uuid4().hex}", data_allocator=None)
    try:
        ends = 0
        while ends < max(1, len(counts)):
            event = consumer.pull().wait(wait_ms)
            if event is None:
                break
            if event.event_id is None:  # a backend's "no more events" marker
                ends += 1
                continue
            ends = 0
            counts[event.partition_index] += 1
    finally:
        consumer.close()
    return counts


def consumer_position(
    topic: TopicHandle, name: str, partition: int, wait_ms: int = DEFAULT_WAIT_MS
) -> int | None:
    """Id of the next event the consumer ``name`` would get in ``partition``; ``None`` when it
    would get none (it acknowledged every event there, or the partition is empty)."""
    consumer = topic.consumer(name, data_allocator=None, targets=[partition])
    try:
        event = consumer.pull().wait(wait_ms)
    finally:
        consumer.close()
    if event is None or event.event_id is None:
        return None
    return int(event.event_id)


def topic_report(
    driver: Driver, name: str, consumers: Sequence[str], wait_ms: int = DEFAULT_WAIT_MS
) -> dict[str, Any]:
    """Everything ``topic info`` shows, as a JSON-able object."""
    if not driver.topic_exists(name):
        raise CommandError(f"Topic '{name}' does not exist")
    topic = driver.open_topic(name)
    try:
        counts = count_events(topic, wait_ms)
        partitions = [
            {"index": index, "events": counts[index], "info": info}
            for index, info in enumerate(topic.partitions)
        ]
        listed = driver.capabilities.consumer_positions
        if listed and not consumers:
            consumers = topic.consumer_names()
        positions: dict[str, list[dict[str, Any]]] = {}
        for consumer in consumers:
            entries = []
            acknowledged = topic.acknowledged_positions(consumer) if listed else {}
            for index, count in enumerate(counts):
                if listed:
                    consumed = acknowledged.get(index, -1) + 1
                    position = consumed if consumed < count else None
                else:
                    position = consumer_position(topic, consumer, index, wait_ms)
                    consumed = count if position is None else position
                entries.append(
                    {"partition": index, "consumed": consumed, "events": count, "next": position}
                )
            positions[consumer] = entries
        return {
            "name": name,
            "backend": driver.backend,
            "description": driver.list_topics().get(name, {}),
            "num_partitions": len(partitions),
            "total_events": sum(counts),
            "partitions": partitions,
            "components": {
                "validator": topic.validator.metadata(),
                "serializer": topic.serializer.metadata(),
                "partition_selector": topic.partition_selector.metadata(),
            },
            "capabilities": driver.capabilities.as_dict(),
            "consumers": positions,
            "consumers_listed": listed,
        }
    finally:
        topic.close()


def format_report(report: dict[str, Any]) -> str:
    """The text form of :func:`topic_report`'s result."""
    components = report["components"]
    capabilities = [key for key, value in report["capabilities"].items() if value]
    lines = [
        f"Topic: {report['name']}",
        f"Driver: {report['backend']}",
        f"Description: {compact_json(report['description'])}",
        f"Validator: {compact_json(components['validator'])}",
        f"Serializer: {compact_json(components['serializer'])}",
        f"Partition selector: {compact_json(components['partition_selector'])}",
        f"Capabilities: {', '.join(capabilities) or 'none'}",
        f"Partitions: {report['num_partitions']}",
    ]
    for partition in report["partitions"]:
        info = f" {compact_json(partition['info'])}" if partition["info"] else ""
        lines.append(f"  partition {partition['index']}: {partition['events']} event(s){info}")
    lines.append(f"Total events: {report['total_events']}")
    if not report["consumers"]:
        lines.append(
            "Consumer positions: none (no consumer name acknowledged an event)"
            if report.get("consumers_listed")
            else "Consumer positions: not shown (this backend cannot list consumer names; "
            "pass --consumer NAME to show where a consumer resumes)"
        )
    for consumer, entries in report["consumers"].items():
        lines.append(f"Consumer '{consumer}':")
        for entry in entries:
            lines.append(
                f"  partition {entry['partition']}: {entry['consumed']} of {entry['events']} "
                f"event(s) acknowledged"
                + ("" if entry["next"] is None else f", resumes at event {entry['next']}")
            )
    return "\n".join(lines)


def info_command(argv: Sequence[str]) -> int:
    """Run ``topic info`` with the arguments after ``info``."""
    remaining, options = extract_hierarchical(argv)
    args = _parser().parse_args(remaining)
    logger = setup_logging(args.logging)
    name = args.topic or args.name_option
    if not name:
        raise CommandError("topic info: the topic name is required (topic info NAME)")
    if args.topic and args.name_option and args.topic != args.name_option:
        raise CommandError(
            f"topic info: two different topic names given ({args.topic!r} and {args.name_option!r})"
        )
    if args.wait_ms < 0:
        raise CommandError(f"topic info: --wait-ms must be >= 0, got {args.wait_ms}")
    driver_config = merged_config(args.driver_config, options["driver"], "driver options")
    driver = make_driver(args.driver, driver_config, logger, logging.DEBUG)
    try:
        report = topic_report(driver, name, args.consumer, args.wait_ms)
    except CommandError:
        raise
    except Exception as error:  # noqa: BLE001 - reported as one line
        raise CommandError(f"Failed to inspect topic '{name}': {one_line(error)}") from None
    finally:
        driver.close()
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False), flush=True)
    else:
        print(format_report(report), flush=True)
    return 0
