"""Refuse answers that would generate a broken backend package (Jinja filters of the template).

``cookiecutter.json`` loads this module (``_extensions``; cookiecutter and cruft put the
template's directory on ``sys.path``) and passes the answers through its filters: the class-name
default goes through :func:`checked_backend_name` (so a bad name is refused right after it is
typed), and the private ``__checked`` variable through both filters (so answers given on the
command line are checked too). On a bad answer the generation stops, before a single file is
written, with one line saying what is wrong and what to type instead: the last line printed.
"""

from __future__ import annotations

import keyword
import re

from cookiecutter.utils import simple_filter

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


def _refuse(problem: str | None) -> None:
    """End cookiecutter (or cruft) with ``problem`` as the last line it prints."""
    if problem:
        # SystemExit passes through cookiecutter untouched: Python prints the message on
        # standard error and exits with status 1, with no traceback after it.
        raise SystemExit(f"ERROR: {problem}")


@simple_filter
def checked_backend_name(name: str) -> str:
    """Jinja filter: ``name``, if it can be a backend name; else the generation stops."""
    _refuse(name_problem(name))
    return name


@simple_filter
def checked_title(title: str) -> str:
    """Jinja filter: ``title``, if it can prefix class names; else the generation stops."""
    _refuse(title_problem(title))
    return title
