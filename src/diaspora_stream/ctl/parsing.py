"""Argument parsing shared by the sub-commands: ``argparse`` with one-line errors."""

from __future__ import annotations

import argparse
from importlib import metadata
from typing import Any, NoReturn

from .errors import CommandError

__all__ = [
    "ArgumentParser",
    "LOG_LEVELS",
    "add_driver_arguments",
    "add_logging_argument",
    "package_version",
]

#: Accepted values of ``--logging`` (the reference's, spdlog names).
LOG_LEVELS = ("trace", "debug", "info", "warn", "error", "critical", "off")


def package_version() -> str:
    """The installed version of the ``diaspora-stream`` distribution."""
    try:
        return metadata.version("diaspora-stream")
    except metadata.PackageNotFoundError:
        return "unknown"


class ArgumentParser(argparse.ArgumentParser):
    """An ``argparse`` parser whose errors raise :class:`CommandError` (one line, exit 1),
    with ``--version`` and without prefix abbreviations of long options."""

    def __init__(self, prog: str, description: str, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(prog=prog, description=description, allow_abbrev=False, **kwargs)
        self.add_argument(
            "--version",
            action="version",
            version=package_version(),
            help="print the package version and exit",
        )

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing the usage and exiting with status 2."""
        raise CommandError(f"{self.prog}: {message} (see '{self.prog} --help')")


def add_logging_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--logging LEVEL`` (default ``info``)."""
    parser.add_argument(
        "--logging",
        choices=LOG_LEVELS,
        default="info",
        metavar="LEVEL",
        help="log level: " + ", ".join(LOG_LEVELS) + " (default: info); logs go to stderr",
    )


def add_driver_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--driver NAME`` (required) and ``--driver-config FILE``."""
    parser.add_argument(
        "--driver",
        required=True,
        metavar="NAME",
        help='backend name, e.g. "files", or "name:python.module"',
    )
    parser.add_argument(
        "--driver-config",
        default="",
        metavar="FILE",
        help="JSON file with the driver's options; --driver.KEY VALUE options are merged "
        "over it (RFC 7386 merge patch)",
    )


HIERARCHICAL_HELP = """\
hierarchical options (typed values: true/false, null, integers, floats, comma lists):
  --driver.KEY VALUE              driver option, e.g. --driver.root_path /tmp/data
  --topic.KEY VALUE               topic option, e.g. --topic.num_partitions 4
  --validator.KEY VALUE           validator option (with --validator TYPE)
  --serializer.KEY VALUE          serializer option (with --serializer TYPE)
  --partition-selector.KEY VALUE  partition selector option (with --partition-selector TYPE)
  KEY may be a dotted path (--topic.a.b 1 gives {"a": {"b": 1}}); null deletes a key of the
  config file."""
