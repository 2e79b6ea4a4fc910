"""Say what to do next (cookiecutter post-generation hook; it runs in the new project).

Cookiecutter renders this file with Jinja before running it: the template's location arrives
JSON-encoded in raw strings, so any character in it stays a valid literal.
"""

from __future__ import annotations

import json
import os
import shutil
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


#: The files of a full-level project, kept apart in the template (they replace or join the
#: log-level files) and moved into place when the ``level`` answer is ``full``.
FULL_LEVEL_FILES = "_level_full"
#: Files of the log-level skeleton that a full-level project does not have.
LOG_LEVEL_ONLY = ("state.py",)


def place_level_files(project: Path, level: str, package: str) -> None:
    """Leave in ``project`` the files of the chosen level only."""
    staged = project / FULL_LEVEL_FILES
    if level == "full":
        for name in LOG_LEVEL_ONLY:
            (project / "src" / package / name).unlink()
        for source in sorted(path for path in staged.rglob("*") if path.is_file()):
            target = project / source.relative_to(staged)
            target.parent.mkdir(parents=True, exist_ok=True)
            source.replace(target)
    shutil.rmtree(staged)


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
    level = "{{ cookiecutter.level }}"
    place_level_files(project, level, "{{ cookiecutter.__package_name }}")
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
        f"then replace the in-memory {'engine' if level == 'full' else 'storage'} where the code "
        "says CHANGE ME (see README.md).",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
