"""Sphinx configuration."""

project = "diaspora-stream"
author = "diaspora-stream developers"
extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_code"]
html_theme = "alabaster"
