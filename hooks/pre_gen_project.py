"""Refuse answers that would generate a broken backend package (cookiecutter pre-generation hook).

Cookiecutter renders this file with Jinja before running it; the answers arrive JSON-encoded
inside raw strings, so any text the user typed (quotes, backslashes) stays a valid literal. On a
bad answer the hook prints one line saying what is wrong and what to type instead, and exits
with status 1, which makes cookiecutter stop and remove the half-made project.
"""

from __future__ import annotations

import json
import keyword
import re
import sys

#: Names the diaspora-stream package already registers in-process: a backend installed under one
#: of them would never be used (the built-in wins), so the conformance suite would test the
#: built-in instead of the new backend.
RESERVED_NAMES = frozenset({"memory", "simple"})

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_TITLE = re.compile(r"[A-Z][A-Za-z0-9]*\Z")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a backend name, or ``None`` if it can."""
    if not _NAME.match(name):
        return (
            f"backend_name {name!r} is not a valid lower-case Python identifier: use lower-case "
            "letters, digits and underscores, starting with a letter (for example my_engine)"
        )
    if keyword.iskeyword(name):
        return f"backend_name {name!r} is a Python keyword: choose another name (e.g. {name}_db)"
    if name in RESERVED_NAMES:
        return (
            f"backend_name {name!r} is the name of a backend built into diaspora-stream: "
            f"choose another name (e.g. my_{name})"
        )
    return None


def title_problem(title: str) -> str | None:
    """Why ``title`` cannot prefix the class names, or ``None`` if it can."""
    if not _TITLE.match(title):
        return (
            f"title {title!r} must be a CamelCase Python identifier (it names the classes "
            "<title>Driver and <title>Topic), for example MyEngine"
        )
    return None


def main() -> int:
    """Check the answers; print one line and return 1 on the first bad one."""
    # ''' (not """): a JSON string starts with " and Jinja's tojson escapes every ' inside.
    name = json.loads(r'''{{ cookiecutter.backend_name | tojson }}''')  # fmt: skip
    title = json.loads(r'''{{ cookiecutter.title | tojson }}''')  # fmt: skip
    for problem in (name_problem(name), title_problem(title)):
        if problem:
            print(f"ERROR: {problem}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
