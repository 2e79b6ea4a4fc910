"""``.. pytest-options:: module``: the command-line options a pytest plugin module adds, read
from its ``pytest_addoption`` hook, so the reference cannot drift from the code."""

from __future__ import annotations

import importlib
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


class _Recorder:
    """Stands in for pytest's parser and option group: records every ``addoption`` call."""

    def __init__(self) -> None:
        self.options: list[tuple[tuple[str, ...], dict[str, Any]]] = []

    def getgroup(self, *args: Any, **kwargs: Any) -> _Recorder:
        return self

    def addoption(self, *names: str, **settings: Any) -> None:
        self.options.append((names, settings))

    def addini(self, *args: Any, **kwargs: Any) -> None:
        """Ini settings are not command-line options."""


class PytestOptions(SphinxDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        module = importlib.import_module(self.arguments[0])
        recorder = _Recorder()
        module.pytest_addoption(recorder)
        lines = []
        for names, settings in recorder.options:
            metavar = settings.get("metavar")
            if settings.get("action") == "store_true":
                metavar = None
            elif metavar is None and settings.get("choices"):
                metavar = "{" + ",".join(settings["choices"]) + "}"
            elif metavar is None:
                metavar = "VALUE"
            synopsis = ", ".join(f"{name} {metavar}" if metavar else name for name in names)
            lines += [f"``{synopsis}``", f"   {settings.get('help', '')}", ""]
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=self.arguments[0]), 0, container)
        return container.children


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("pytest-options", PytestOptions)
    return {"parallel_read_safe": True, "version": "1"}
