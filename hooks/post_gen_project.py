"""Say what to do next (cookiecutter post-generation hook; it runs in the new project)."""

from __future__ import annotations

from pathlib import Path


def main() -> None:
    """Print the first commands to run in the generated project."""
    project = Path.cwd()
    print(
        f"Generated {project.name} in {project.parent}. Next:\n"
        f"  cd {project}\n"
        "  export DIASPORA_STREAM_SOURCE=/path/to/diaspora-stream   # until it is on PyPI\n"
        "  nox -s tests conformance\n"
        "then replace the in-memory storage where the code says CHANGE ME (see README.md)."
    )


if __name__ == "__main__":
    main()
