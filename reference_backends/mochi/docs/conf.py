"""Sphinx configuration of the diaspora-stream-mochi documentation (``nox -s docs``)."""

project = "diaspora-stream-mochi"
author = "diaspora-stream developers"
copyright = "2026, " + author  # noqa: A001 - Sphinx's setting name
extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
html_theme = "alabaster"
