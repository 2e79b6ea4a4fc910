"""``diaspora-mochi start|stop|status --config FILE``: run a mochi service (see :data:`HELP`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from diaspora_stream.exceptions import Exception as DiasporaException

from . import service
from .config import ServerConfig

__all__ = ["HELP", "main"]

#: What ``diaspora-mochi --help`` says (plain text).
HELP = """\
Run a mochi service: server processes (members) that hold topics, and the group file that
clients give as the driver option group_file.

  start   launch the members in the background (--foreground keeps them attached) and write
          the group file
  status  say which members answer (exit status 1 if one does not)
  stop    stop the members cleanly (SIGTERM) and remove the group file

Errors are one line on stderr with a non-zero exit status.
"""

EPILOG = """\
example:
  echo '{"root": "mochi-data", "group_file": "mochi-group.json"}' > mochi-service.json
  diaspora-mochi start --config mochi-service.json
  diaspora-ctl topic list --driver mochi --driver.group_file mochi-group.json
  diaspora-mochi stop --config mochi-service.json

In Python: Driver(backend="mochi", options={"group_file": "mochi-group.json"}).
The configuration file's keys are in docs/backends/mochi.md.
"""


def main(argv: list[str] | None = None) -> int:
    """Run the command; return its exit status."""
    parser = argparse.ArgumentParser(
        prog="diaspora-mochi",
        description=HELP,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument(
        "--config",
        "-c",
        required=True,
        type=Path,
        help="the service's configuration file (JSON, or YAML with PyYAML); not the group file",
    )
    parser.add_argument("--foreground", action="store_true", help="start: stay attached")
    args = parser.parse_args(argv)
    try:
        config = ServerConfig.load(args.config)
        if args.command == "start":
            members = service.start(config, foreground=args.foreground)
            if not args.foreground:
                for member in members:
                    print(f"member {member.rank} listening on {member.address} (pid {member.pid})")
                print(f"group file: {config.group_file}")
            return 0
        if args.command == "stop":
            members = service.stop(config)
            print(f"stopped {len(members)} member(s); removed {config.group_file}")
            return 0
        states = service.status(config)
        if not states:
            print(f"not running (no group file {config.group_file})")
            return 1
        for member, alive in states:
            state = "up" if alive else "DOWN"
            print(f"member {member.rank} {member.address} pid {member.pid}: {state}")
            answer = service.ping(member, config.group_file) if alive else None
            reserve = (answer or {}).get("memory_reserve")
            if reserve:
                print(f"  memory reserve: {_reserve_text(reserve)}")
        return 0 if all(alive for _, alive in states) else 1
    except DiasporaException as error:
        print(f"diaspora-mochi: error: {error}", file=sys.stderr)
        return 1


def _reserve_text(reserve: dict[str, int]) -> str:
    mib = 2**20
    ready = reserve["populated"] * 100 // max(1, reserve["size"])
    return (
        f"{reserve['used'] / mib:,.1f} of {reserve['size'] / mib:,.1f} MiB used, "
        f"{ready} % faulted in"
    )


if __name__ == "__main__":
    sys.exit(main())
