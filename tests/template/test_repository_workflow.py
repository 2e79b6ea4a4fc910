"""The repository's own workflow (copied by "Use this template") runs what ``.ci/run`` runs."""

from __future__ import annotations

from typing import Any

import yaml
from bake import REPOSITORY


def test_the_workflow_runs_the_ci_script_with_java() -> None:
    workflow: dict[Any, Any] = yaml.safe_load(
        (REPOSITORY / ".github/workflows/ci.yml").read_text(encoding="utf-8")
    )
    # YAML reads the key "on" as True.
    assert {"push", "pull_request"} <= set(workflow[True])
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    assert [step["run"] for step in steps if "run" in step] == ["bash .ci/run"]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert {"actions/checkout", "actions/setup-python", "actions/setup-java"} <= set(uses)
    assert (REPOSITORY / ".ci/run").is_file()


def test_ci_runs_the_readme_test_command() -> None:
    """``.ci/run`` runs the README's test command exactly (the quick start's second command)."""
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    commands = [
        line.split("#", 1)[0].strip()
        for line in readme.splitlines()
        if line.rstrip().endswith("# run the tests")
    ]
    assert len(commands) == 1, "the README's quick start names one test command"
    ci_lines = [line.strip() for line in (REPOSITORY / ".ci/run").read_text().splitlines()]
    assert commands[0] in ci_lines
