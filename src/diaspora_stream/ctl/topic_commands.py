"""``diaspora-ctl topic create`` and ``diaspora-ctl topic list`` (reference-api.md §7.4, §7.5)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ..api import PartitionSelector, Serializer, Validator
from .common import compact_json, make_driver
from .errors import CommandError, one_line
from .log import setup_logging
from .options import HierarchicalOptions, extract_hierarchical, merged_config
from .parsing import (
    HIERARCHICAL_HELP,
    ArgumentParser,
    add_driver_arguments,
    add_logging_argument,
)

__all__ = ["create_command", "list_command"]

_COMPONENTS: tuple[tuple[str, str, Any], ...] = (
    ("validator", "Validator", Validator),
    ("serializer", "Serializer", Serializer),
    ("partition-selector", "Partition selector", PartitionSelector),
)


def _create_parser() -> ArgumentParser:
    parser = ArgumentParser(
        "diaspora-ctl topic create",
        "Create a topic.",
        epilog=HIERARCHICAL_HELP
        + "\n\nexample:\n  diaspora-ctl topic create --driver files --driver.root_path /tmp/x "
        "--name t --topic.num_partitions 4",
    )
    add_driver_arguments(parser)
    parser.add_argument("--name", required=True, metavar="TOPIC", help="name of the topic")
    parser.add_argument(
        "--topic-config",
        default="",
        metavar="FILE",
        help="JSON file with the topic's options; --topic.KEY VALUE options are merged over it",
    )
    for option, label, _ in _COMPONENTS:
        parser.add_argument(
            f"--{option}",
            default="",
            metavar="TYPE",
            help=f"{label.lower()} type (default: the default one); configured by "
            f"--{option}.KEY VALUE options",
        )
    add_logging_argument(parser)
    return parser


def _component(
    kind: str, label: str, cls: Any, type_name: str, options: HierarchicalOptions
) -> Any:
    """The component ``--kind TYPE`` asks for, or ``None`` for the default one."""
    if not type_name:
        return None
    config = dict(options[kind])
    config["type"] = type_name
    try:
        return cls.from_metadata(**config)
    except Exception as error:  # noqa: BLE001 - reported as one line
        raise CommandError(
            f"Invalid {label.lower()} {compact_json(config)}: {one_line(error)}"
        ) from None


def create_command(argv: Sequence[str]) -> int:
    """Run ``topic create`` with the arguments after ``create``."""
    remaining, options = extract_hierarchical(argv)
    args = _create_parser().parse_args(remaining)
    logger = setup_logging(args.logging)
    driver_config = merged_config(args.driver_config, options["driver"], "driver options")
    topic_config = merged_config(args.topic_config, options["topic"], "topic options")
    logger.debug("Topic config: %s", compact_json(topic_config))
    driver = make_driver(args.driver, driver_config, logger)
    try:
        logger.info("Creating topic: %s", args.name)
        components = {
            kind.replace("-", "_"): _component(kind, label, cls, getattr(args, attr), options)
            for (kind, label, cls), attr in zip(
                _COMPONENTS, ("validator", "serializer", "partition_selector"), strict=True
            )
        }
        arguments = {key: value for key, value in components.items() if value is not None}
        driver.create_topic(args.name, options=topic_config, **arguments)
        logger.info("Topic '%s' created successfully", args.name)
    finally:
        driver.close()
    return 0


def _list_parser() -> ArgumentParser:
    parser = ArgumentParser(
        "diaspora-ctl topic list",
        "List the topics of a driver, one per line (sorted by name).",
        epilog=HIERARCHICAL_HELP + "\n\nexample:\n  diaspora-ctl topic list --driver files "
        "--driver.root_path /tmp/x --verbose",
    )
    add_driver_arguments(parser)
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print each topic's description as compact JSON after its name",
    )
    add_logging_argument(parser)
    return parser


def list_command(argv: Sequence[str]) -> int:
    """Run ``topic list`` with the arguments after ``list``."""
    remaining, options = extract_hierarchical(argv)
    args = _list_parser().parse_args(remaining)
    logger = setup_logging(args.logging)
    driver_config = merged_config(args.driver_config, options["driver"], "driver options")
    driver = make_driver(args.driver, driver_config, logger, logging.DEBUG)
    try:
        topics = driver.list_topics()
    finally:
        driver.close()
    lines = [
        f"{name} {compact_json(info)}" if args.verbose else name
        for name, info in sorted(topics.items())
    ]
    if lines:
        print("\n".join(lines), flush=True)
    return 0
