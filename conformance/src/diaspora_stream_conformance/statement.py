"""Copy the statement of the last conformance report into a README, never typed by hand.

``python -m diaspora_stream_conformance.statement REPORT_DIR README.md`` reads
``REPORT_DIR/conformance.json`` and replaces what lies between the two markers
:data:`BEGIN` and :data:`END` of the README by the report's statement (the sentence "... conforms
to diaspora-stream-conformance X.Y: MUST 100 % ..."), with the date of the run. A README without
the markers is refused, with the lines to add.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["BEGIN", "END", "StatementError", "statement_block", "update_readme"]

BEGIN = "<!-- conformance-statement: written by nox -s conformance, do not edit -->"
END = "<!-- /conformance-statement -->"


class StatementError(ValueError):
    """The report or the README cannot give a statement."""


def statement_block(report_directory: Path) -> str:
    """The README block (markers included) stating the report in ``report_directory``."""
    path = report_directory / "conformance.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StatementError(f"no report at {path}: run the conformance suite first") from None
    except json.JSONDecodeError as error:
        raise StatementError(f"{path} is not valid JSON ({error}): run the suite again") from None
    if not isinstance(report, dict) or "statement" not in report:
        raise StatementError(f"{path} has no statement: is it a conformance report?")
    started = str(report.get("started", ""))[:10]
    run = f" (run of {started})" if started else ""
    return f"{BEGIN}\n{report['statement']}{run}\n{END}"


def update_readme(report_directory: Path, readme: Path) -> str:
    """Write the statement of the report into ``readme`` between the markers; return it."""
    text = readme.read_text(encoding="utf-8")
    begin, end = text.find(BEGIN), text.find(END)
    if begin < 0 or end < begin:
        raise StatementError(
            f"{readme} has no place for the statement: add the two lines\n{BEGIN}\n{END}\n"
            "where it belongs"
        )
    block = statement_block(report_directory)
    readme.write_text(text[:begin] + block + text[end + len(END) :], encoding="utf-8")
    return block.splitlines()[1]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="directory of conformance.json")
    parser.add_argument("readme", type=Path, help="the README to update")
    args = parser.parse_args(argv)
    try:
        line = update_readme(args.report, args.readme)
    except StatementError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.readme}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
