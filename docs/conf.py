"""Sphinx configuration: ``nox -s docs`` builds the HTML site, ``.ci/run`` builds it with
warnings as errors and runs the doctests."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "_ext"))

project = "diaspora-stream"
author = "diaspora-stream developers"
copyright = "diaspora-stream developers"  # noqa: A001 - the name Sphinx reads
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "pytest_options",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_code", "_ext", "bench-run"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = "diaspora-stream"
html_static_path = ["_static"]
html_css_files = ["wide.css"]
html_theme_options = {
    "source_directory": "docs/",
    "navigation_with_keys": True,
}

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
# The API objects are documented under the names users import (diaspora_stream.api.X).
add_module_names = False

# Doctests run in a fresh temporary directory each, with the files backend writing there.
doctest_global_setup = """
import os as _os, tempfile as _tempfile
_doctest_previous_dir = _os.getcwd()
_doctest_dir = _tempfile.TemporaryDirectory(prefix="diaspora-doctest-")
_os.chdir(_doctest_dir.name)
"""
doctest_global_cleanup = """
_os.chdir(_doctest_previous_dir)
_doctest_dir.cleanup()
"""
