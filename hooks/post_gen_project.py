"""Say what to do next (cookiecutter post-generation hook; it runs in the new project).

Cookiecutter renders this file with Jinja before running it: the template's location arrives
JSON-encoded in raw strings, so any character in it stays a valid literal.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

SOURCE_VARIABLE = "DIASPORA_STREAM_SOURCE"
#: Abbreviations cookiecutter accepts for a template's address, and what git needs instead.
ABBREVIATIONS = {
    "gh:": "https://github.com/",
    "gl:": "https://gitlab.com/",
    "bb:": "https://bitbucket.org/",
}


def is_checkout(path: Path) -> bool:
    """Whether ``path`` is a checkout of the diaspora-stream repository."""
    return (path / "src" / "diaspora_stream").is_dir() and (
        path / "conformance" / "pyproject.toml"
    ).is_file()


def source_lines(project: Path, template: str, repo_dir: Path) -> list[str]:
    """The commands that make diaspora-stream installable for the project (maybe none)."""
    configured = os.environ.get(SOURCE_VARIABLE)
    if configured and is_checkout(Path(configured).expanduser()):
        return []  # already set
    if any(is_checkout(parent) for parent in project.parents):
        return []  # the noxfile finds the checkout the project sits in
    temporary = Path(tempfile.gettempdir()).resolve()
    if is_checkout(repo_dir) and temporary not in repo_dir.resolve().parents:
        return [f"  export {SOURCE_VARIABLE}={repo_dir.resolve()}   # until it is on PyPI"]
    # The template came from a clone that goes away (cruft, a zip): clone it to keep it.
    for short, long in ABBREVIATIONS.items():
        if template.startswith(short):
            template = long + template[len(short) :]
    clone = project.parent / "diaspora-stream"
    return [
        f"  git clone {template} {clone}",
        f"  export {SOURCE_VARIABLE}={clone}   # until it is on PyPI",
    ]


def main() -> None:
    """Print the first commands to run in the generated project."""
    project = Path.cwd()
    template = json.loads(r'''{{ cookiecutter.get('_template', '') | tojson }}''')  # fmt: skip
    # cookiecutter names its local copy of the template; cruft does not.
    repo_text = json.loads(r'''{{ cookiecutter.get('_repo_dir', '') | tojson }}''')  # fmt: skip
    repo_dir = Path(repo_text)
    if not repo_dir.is_absolute():
        # Relative to where cookiecutter was run: the shell's directory, as this hook runs in
        # the project.
        repo_dir = Path(os.environ.get("PWD", project)) / repo_dir
    lines = [
        f"Generated {project.name} in {project.parent}. Next:",
        f"  cd {project}",
        *source_lines(project, template, repo_dir),
        "  nox -s tests conformance",
        "then replace the in-memory storage where the code says CHANGE ME (see README.md).",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
