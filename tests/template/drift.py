"""Has the scaffolding of a reference backend drifted from what the template renders?

Each ``reference_backends/<name>/`` has the shape the backend template generates (design.md §1):
the template is proved by its reference instances. :func:`check` renders the template for
``<name>`` into a temporary directory and compares the *scaffolding* (not the backend's code)
with the reference backend:

* ``pyproject.toml``: the ``[build-system]`` table, the distribution name, the entry-point
  groups and names (and targets), the names of the optional-dependency extras and of the
  packages in each, and every ``[tool.*]`` section;
* ``tests/test_conformance.py``, the suite's wiring: the same code once docstrings are removed
  and the driver options given to ``BackendUnderTest`` are set aside (a backend has its own,
  written there or imported from its ``tests/conftest.py``);
* ``noxfile.py``: the same session names;
* ``.github/workflows/ci.yml``: the same workflow (as YAML data);
* files that must exist in both: ``expected-failures.txt``, ``LICENSE``, ``docs/conf.py``,
  ``docs/index.md``;
* ``README.md``: the sections listed in :data:`SHARED_README_SECTIONS`.

``nox -s drift`` runs :func:`main`; ``tests/template/test_drift.py`` runs the same check in the
repository's test command.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

from bake import REPOSITORY, render

__all__ = [
    "REQUIRED_FILES",
    "SHARED_README_SECTIONS",
    "check",
    "compare",
    "main",
    "reference_backends",
]

#: Files every generated project and every reference backend has.
REQUIRED_FILES = ("expected-failures.txt", "LICENSE", "docs/conf.py", "docs/index.md")

#: README sections of the template that every reference backend's README has too (the others,
#: such as "Make it yours", only make sense in a freshly generated project).
SHARED_README_SECTIONS = (
    "Install",
    "Tests and conformance",
    "Expected failures",
    "Benchmarks",
    "Continuous integration",
)

#: Answers used to render the template for a reference backend (the name is added).
REFERENCE_ANSWERS = {
    "author": "diaspora-stream developers",
    "email": "diaspora-stream@example.org",
    "licence": "Apache-2.0",
}


def reference_backends(repository: Path = REPOSITORY) -> list[str]:
    """Names of the reference backends of the repository (``reference_backends/*/``)."""
    root = repository / "reference_backends"
    return sorted(path.parent.name for path in root.glob("*/pyproject.toml"))


def _requirement_name(requirement: str) -> str:
    """The normalized distribution name of a requirement string (``"pytest>=8"`` -> pytest)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    name = match.group(1) if match else requirement
    return re.sub(r"[-_.]+", "-", name).lower()


def _compare_pyproject(rendered: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    """Differences between two parsed ``pyproject.toml`` files, in their scaffolding parts."""
    problems = []
    if rendered.get("build-system") != reference.get("build-system"):
        problems.append(
            f"[build-system] is {reference.get('build-system')}, "
            f"the template has {rendered.get('build-system')}"
        )
    rendered_project = rendered.get("project", {})
    reference_project = reference.get("project", {})
    if rendered_project.get("name") != reference_project.get("name"):
        problems.append(
            f"distribution name is {reference_project.get('name')!r}, "
            f"the template has {rendered_project.get('name')!r}"
        )
    rendered_entries = rendered_project.get("entry-points", {})
    reference_entries = reference_project.get("entry-points", {})
    if sorted(rendered_entries) != sorted(reference_entries):
        problems.append(
            f"entry-point groups are {sorted(reference_entries)}, "
            f"the template has {sorted(rendered_entries)}"
        )
    for group in sorted(set(rendered_entries) & set(reference_entries)):
        if rendered_entries[group] != reference_entries[group]:
            problems.append(
                f"entry points of {group!r} are {reference_entries[group]}, "
                f"the template has {rendered_entries[group]}"
            )
    rendered_extras = rendered_project.get("optional-dependencies", {})
    reference_extras = reference_project.get("optional-dependencies", {})
    if sorted(rendered_extras) != sorted(reference_extras):
        problems.append(
            f"optional-dependency extras are {sorted(reference_extras)}, "
            f"the template has {sorted(rendered_extras)}"
        )
    for extra in sorted(set(rendered_extras) & set(reference_extras)):
        rendered_names = sorted(_requirement_name(r) for r in rendered_extras[extra])
        reference_names = sorted(_requirement_name(r) for r in reference_extras[extra])
        if rendered_names != reference_names:
            problems.append(
                f"extra {extra!r} has {reference_names}, the template has {rendered_names}"
            )
    rendered_tools = rendered.get("tool", {})
    reference_tools = reference.get("tool", {})
    for section in sorted(set(rendered_tools) | set(reference_tools)):
        if rendered_tools.get(section) != reference_tools.get(section):
            problems.append(
                f"[tool.{section}] is {reference_tools.get(section)}, "
                f"the template has {rendered_tools.get(section)}"
            )
    return [f"pyproject.toml: {problem}" for problem in problems]


class _WiringNormalizer(ast.NodeTransformer):
    """Removes docstrings and sets aside the options given to ``BackendUnderTest``, with their
    import from ``conftest`` (where a generated project keeps the options its tests share)."""

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        return None if node.module == "conftest" else node

    def _strip_docstring(self, node: Any) -> Any:
        """Remove the docstring of a module, class or function node."""
        body = node.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
        return node

    def visit_Module(self, node: ast.Module) -> Any:
        self.generic_visit(node)
        return self._strip_docstring(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        self.generic_visit(node)
        return self._strip_docstring(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        self.generic_visit(node)
        return self._strip_docstring(node)

    def visit_Call(self, node: ast.Call) -> Any:
        self.generic_visit(node)
        function = node.func
        name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)
        if name == "BackendUnderTest":
            placeholder = ast.Constant("<backend options>")
            node.args = [node.args[0], *(placeholder for _ in node.args[1:])]
            node.keywords = [
                ast.keyword(keyword.arg, placeholder) if keyword.arg else keyword
                for keyword in node.keywords
            ]
        return node


def _normalized_wiring(source: str) -> str:
    """``source`` without docstrings and backend options, as canonical Python text."""
    tree = _WiringNormalizer().visit(ast.parse(source))
    return ast.unparse(ast.fix_missing_locations(tree))


def _session_names(source: str) -> list[str]:
    """Names of the nox sessions a noxfile defines (``name=`` overrides the function name)."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call else decorator
            if isinstance(target, ast.Attribute) and target.attr == "session":
                override = [k.value for k in (call.keywords if call else []) if k.arg == "name"]
                if override and isinstance(override[0], ast.Constant):
                    names.append(str(override[0].value))
                else:
                    names.append(node.name)
    return sorted(names)


def _headings(markdown: str) -> set[str]:
    """The level-2 and level-3 headings of a Markdown text."""
    return {match.group(1).strip() for match in re.finditer(r"^#{2,3} (.+)$", markdown, re.M)}


def compare(rendered: Path, reference: Path) -> list[str]:
    """Differences between the scaffolding of ``rendered`` and of ``reference`` (none: [])."""
    problems: list[str] = []

    def read(root: Path, relative: str) -> str | None:
        path = root / relative
        return path.read_text(encoding="utf-8") if path.is_file() else None

    for relative in (
        "pyproject.toml",
        "tests/test_conformance.py",
        "noxfile.py",
        ".github/workflows/ci.yml",
        "README.md",
        *REQUIRED_FILES,
    ):
        if read(rendered, relative) is None:
            problems.append(f"{relative}: the template renders no such file")
        elif read(reference, relative) is None:
            problems.append(f"{relative}: missing (the template generates it)")
    if problems:
        return problems

    problems += _compare_pyproject(
        tomllib.loads(read(rendered, "pyproject.toml") or ""),
        tomllib.loads(read(reference, "pyproject.toml") or ""),
    )

    rendered_wiring = _normalized_wiring(read(rendered, "tests/test_conformance.py") or "")
    reference_wiring = _normalized_wiring(read(reference, "tests/test_conformance.py") or "")
    if rendered_wiring != reference_wiring:
        diff = difflib.unified_diff(
            rendered_wiring.splitlines(),
            reference_wiring.splitlines(),
            "template",
            "reference",
            lineterm="",
        )
        problems.append(
            "tests/test_conformance.py: the suite is wired differently (docstrings and driver "
            "options aside):\n" + "\n".join(diff)
        )

    rendered_sessions = _session_names(read(rendered, "noxfile.py") or "")
    reference_sessions = _session_names(read(reference, "noxfile.py") or "")
    if rendered_sessions != reference_sessions:
        problems.append(
            f"noxfile.py: sessions are {reference_sessions}, the template has {rendered_sessions}"
        )

    rendered_workflow = yaml.safe_load(read(rendered, ".github/workflows/ci.yml") or "")
    reference_workflow = yaml.safe_load(read(reference, ".github/workflows/ci.yml") or "")
    if rendered_workflow != reference_workflow:
        diff = difflib.unified_diff(
            yaml.safe_dump(rendered_workflow, sort_keys=True).splitlines(),
            yaml.safe_dump(reference_workflow, sort_keys=True).splitlines(),
            "template",
            "reference",
            lineterm="",
        )
        problems.append(".github/workflows/ci.yml: differs:\n" + "\n".join(diff))

    rendered_headings = _headings(read(rendered, "README.md") or "")
    reference_headings = _headings(read(reference, "README.md") or "")
    for section in SHARED_README_SECTIONS:
        if section not in rendered_headings:
            problems.append(f"README.md: the template has no section {section!r}")
        elif section not in reference_headings:
            problems.append(f"README.md: no section {section!r} (the template has one)")
    return problems


def check(name: str, repository: Path = REPOSITORY, workdir: Path | None = None) -> list[str]:
    """Render the template for reference backend ``name`` and compare; return the drift."""
    reference = repository / "reference_backends" / name
    with tempfile.TemporaryDirectory(prefix="diaspora-drift-") as scratch:
        output = workdir if workdir is not None else Path(scratch)
        rendered = render({"backend_name": name, **REFERENCE_ANSWERS}, output, repository)
        return compare(rendered, reference)


def main(argv: list[str] | None = None) -> int:
    """Check every reference backend (or those named); print the drift; 1 if any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="reference backends (default: all)")
    args = parser.parse_args(argv)
    names = args.names or reference_backends()
    failed = False
    for name in names:
        problems = check(name)
        if problems:
            failed = True
            print(f"reference_backends/{name}: {len(problems)} difference(s) from the template:")
            for problem in problems:
                print(f"  - {problem}")
        else:
            print(f"reference_backends/{name}: scaffolding matches the template")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
