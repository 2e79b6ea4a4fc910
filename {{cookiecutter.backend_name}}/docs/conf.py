"""Sphinx configuration of the {{ cookiecutter.__distribution }} documentation (``nox -s docs``)."""

project = "{{ cookiecutter.__distribution }}"
author = "{{ cookiecutter.__author_quoted }}"
copyright = "{{ cookiecutter.__year }}, " + author  # noqa: A001 - Sphinx's setting name
extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
html_theme = "alabaster"
