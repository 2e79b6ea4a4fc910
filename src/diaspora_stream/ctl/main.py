"""Entry point of ``diaspora-ctl``: dispatch on the command and report errors on one line."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from .errors import CommandError, report_error
from .parsing import package_version

__all__ = ["USAGE", "main"]

USAGE = """\
Usage: diaspora-ctl <command> <action> [options]

Commands:
  topic create    Create a new topic
  topic list      List existing topics
  topic info      Show a topic's partitions, event counts and components
  fifo            Run FIFO daemon
  forward         Run forwarding daemon
  completion      Print a shell completion script (bash or zsh)

For help on a specific command, use:
  diaspora-ctl topic create --help
  diaspora-ctl topic list --help
  diaspora-ctl topic info --help
  diaspora-ctl fifo --help
  diaspora-ctl forward --help
  diaspora-ctl completion --help
  diaspora-ctl --version"""

Handler = Callable[[Sequence[str]], int]


def _topic_handler(action: str) -> Handler:
    if action == "create":
        from .topic_commands import create_command

        return create_command
    if action == "list":
        from .topic_commands import list_command

        return list_command
    if action == "info":
        from .topic_info import info_command

        return info_command
    raise CommandError(
        f"Unknown topic action: {action} (expected create, list or info; see 'diaspora-ctl --help')"
    )


def _command_handler(command: str) -> Handler:
    if command == "fifo":
        from .fifo import fifo_command

        return fifo_command
    if command == "forward":
        from .forward import forward_command

        return forward_command
    if command == "completion":
        from .completion import completion_command

        return completion_command
    raise CommandError(f"Unknown command: {command} (see 'diaspora-ctl --help')")


def _dispatch(argv: Sequence[str]) -> int:
    if not argv:
        print(USAGE, flush=True)
        raise CommandError("missing command (see the usage above)")
    command = argv[0]
    if command in ("-h", "--help"):
        print(USAGE, flush=True)
        return 0
    if command == "--version":
        print(package_version(), flush=True)
        return 0
    if command == "topic":
        if len(argv) < 2:
            raise CommandError(
                "'topic' command requires an action: create, list or info "
                "(see 'diaspora-ctl --help')"
            )
        if argv[1] in ("-h", "--help"):
            print(USAGE, flush=True)
            return 0
        return _topic_handler(argv[1])(argv[2:])
    return _command_handler(command)(argv[1:])


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``diaspora-ctl`` with ``argv`` (default: the process arguments); return the exit
    status: 0 on success, 1 after printing one ``Error: ...`` line on stderr."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(arguments)
    except CommandError as error:
        return report_error(error)
    except KeyboardInterrupt:
        return report_error("interrupted")
    except Exception as error:  # noqa: BLE001 - every failure is one line
        return report_error(error)
