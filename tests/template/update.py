"""The update path of a generated project: ``cruft create``, ``cruft check``, ``cruft update``.

:func:`check_update_path` makes a git repository of the template (the files of this checkout
that the template consists of), creates a project from it with ``cruft create``, commits it,
makes an edit of the project's own, changes the template, then checks that ``cruft check``
reports the project out of date, that ``cruft update`` brings the template's change, and that
the project's own edit is kept. Everything is local: the template's source is a directory.
``python tests/template/update.py`` runs it (with cruft installed). ``nox -s template`` takes
the same path on a project of its own in ``journey.py``, with these helpers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bake import REPOSITORY, clean_environment

__all__ = [
    "PROJECT_LINE",
    "TEMPLATE_FILES",
    "TEMPLATE_LINE",
    "change_template",
    "check_update_path",
    "create_project",
    "commit",
    "run_quietly",
    "template_repository",
]

#: What the template consists of, relative to the repository's root.
TEMPLATE_FILES = (
    "cookiecutter.json",
    "local_extensions.py",
    "hooks",
    "{{cookiecutter.backend_name}}",
)

#: Who commits in the scratch repositories (no user configuration needed).
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "template test",
    "GIT_AUTHOR_EMAIL": "template-test@example.org",
    "GIT_COMMITTER_NAME": "template test",
    "GIT_COMMITTER_EMAIL": "template-test@example.org",
}

#: cruft, run by the Python that runs this module.
CRUFT = [sys.executable, "-m", "cruft"]

#: The template change (a line added to the generated .gitignore) and the project's own edit.
TEMPLATE_LINE = "# added by a template update"
PROJECT_LINE = "TopicRules::test_duplicate_create_raises  # the project's own entry"


def run_quietly(
    command: list[str], cwd: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Print and run ``command`` in ``cwd`` with a git identity, its output captured; raise
    SystemExit with the output if it fails and ``check``."""
    print(f"$ {' '.join(command)}  (in {cwd})", flush=True)
    environment = clean_environment(**_GIT_IDENTITY)
    environment.pop("DIASPORA_STREAM_SOURCE", None)
    completed = subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, check=False
    )
    if check and completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{completed.stdout}{completed.stderr}")
    return completed


def commit(directory: Path, message: str) -> None:
    """Commit everything in the git repository ``directory``."""
    run_quietly(["git", "add", "-A"], directory)
    run_quietly(["git", "commit", "--quiet", "--no-verify", "-m", message], directory)


def template_repository(directory: Path) -> Path:
    """A git repository holding the template's files as they are in this checkout."""
    directory.mkdir(parents=True)
    for name in TEMPLATE_FILES:
        source = REPOSITORY / name
        if source.is_dir():
            shutil.copytree(source, directory / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, directory / name)
    run_quietly(["git", "init", "--quiet", "--initial-branch", "main"], directory)
    commit(directory, "the template")
    return directory


def change_template(template: Path) -> None:
    """Improve the template in its repository: :data:`TEMPLATE_LINE` joins the generated
    ``.gitignore``; committed."""
    gitignore = template / "{{cookiecutter.backend_name}}" / ".gitignore"
    with open(gitignore, "a", encoding="utf-8") as stream:
        stream.write(TEMPLATE_LINE + "\n")
    commit(template, "a template improvement")


def create_project(workdir: Path) -> tuple[Path, Path]:
    """``(template, project)``: a git repository of the template in ``workdir/template`` and a
    project made from it with ``cruft create --no-input`` (default answers), committed in git
    of its own."""
    template = template_repository(workdir / "template")
    output = workdir / "projects"
    output.mkdir()
    run_quietly(
        [*CRUFT, "create", "--no-input", "--output-dir", str(output), str(template)], workdir
    )
    project = output / "my_engine"
    run_quietly(["git", "init", "--quiet", "--initial-branch", "main"], project)
    commit(project, "generated")
    return template, project


def check_update_path(workdir: Path) -> None:
    """Create, edit, update (see the module docstring); raise SystemExit on a failure."""
    cruft = CRUFT
    template, project = create_project(workdir)
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    if state.get("template") != str(template):
        raise SystemExit(f".cruft.json does not name the template: {state}")
    with open(project / "expected-failures.txt", "a", encoding="utf-8") as stream:
        stream.write(PROJECT_LINE + "\n")
    commit(project, "the project's own edit")
    if run_quietly([*cruft, "check"], project, check=False).returncode != 0:
        raise SystemExit("cruft check: a fresh project was reported out of date")

    change_template(template)
    if run_quietly([*cruft, "check"], project, check=False).returncode == 0:
        raise SystemExit("cruft check did not report the template change")
    run_quietly([*cruft, "update", "--skip-apply-ask", "--allow-untracked-files"], project)
    if TEMPLATE_LINE not in (project / ".gitignore").read_text(encoding="utf-8"):
        raise SystemExit("cruft update did not bring the template change")
    if PROJECT_LINE not in (project / "expected-failures.txt").read_text(encoding="utf-8"):
        raise SystemExit("cruft update lost the project's own edit")
    commit(project, "template update")
    if run_quietly([*cruft, "check"], project, check=False).returncode != 0:
        raise SystemExit("cruft check: the updated project is still reported out of date")
    print("update path OK: cruft create, check, update (template change in, own edit kept)")


def main() -> int:
    """Run :func:`check_update_path` in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="diaspora-template-update-") as scratch:
        check_update_path(Path(scratch))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
