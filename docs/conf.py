"""Sphinx configuration for digitcnn's documentation.

Build the pages with ``sphinx-build -W --keep-going docs docs/_build/html`` and
run their examples with ``sphinx-build -W -b doctest docs docs/_build/doctest``,
both from the repository root (the examples read ``data/mnist``).
"""

from __future__ import annotations

import doctest
import os
import sys
import zlib
from pathlib import Path

import digitcnn

os.environ.setdefault("MPLBACKEND", "Agg")
# A program may quieten TensorFlow for itself (the library leaves the environment alone).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent

# The figures the pages show are drawn by digitcnn itself (see figures.py), once per checkout.
sys.path.insert(0, str(HERE))
from figures import make_figures  # noqa: E402

make_figures()

project = "digitcnn"
author = "The digitcnn developers"
copyright = "2026, the digitcnn developers"
version = release = digitcnn.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "sphinxarg.ext",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_generated", "_inventories/README.md"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

html_theme = "furo"
html_title = f"digitcnn {release}"

# API reference: NumPy-style docstrings, type hints rendered in the descriptions.
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_default_options = {"members": True}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_preprocess_types = True
napoleon_type_aliases = {
    "array_like": ":term:`array_like`",
    "path-like": ":class:`os.PathLike`",
    "Pillow image": ":class:`PIL.Image.Image`",
}

# Docstring examples run under pytest (--doctest-modules); here only the pages' own.
doctest_test_doctest_blocks = ""
# Unlike Sphinx's default, compare error messages too: they are part of the API.
doctest_default_flags = doctest.ELLIPSIS | doctest.DONT_ACCEPT_TRUE_FOR_1
# Each page's examples run in a fresh temporary folder holding a link to the
# repository's data/, so that they read and write the paths a user would.
doctest_global_setup = f"""
import os, tempfile
import numpy as np
_home = os.getcwd()
os.chdir(tempfile.mkdtemp(prefix="digitcnn-doctest-"))
os.symlink({str(HERE.parent / "data")!r}, "data")
"""
doctest_global_cleanup = "os.chdir(_home)"


def _inventory(name: str) -> str:
    """Compress the plain-text inventory ``_inventories/<name>.txt`` for intersphinx."""
    lines = [
        line
        for line in (HERE / "_inventories" / f"{name}.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    header = f"# Sphinx inventory version 2\n# Project: {name}\n# Version: \n"
    header += "# The remainder of this file is compressed using zlib.\n"
    target = HERE / "_build" / "inventories" / f"{name}.inv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(header.encode() + zlib.compress(("\n".join(lines) + "\n").encode()))
    return str(target)


intersphinx_mapping = {
    "python": ("https://docs.python.org/3", str(HERE / "_inventories" / "python.inv")),
    "PIL": ("https://pillow.readthedocs.io/en/stable", str(HERE / "_inventories" / "pillow.inv")),
    "numpy": ("https://numpy.org/doc/stable", _inventory("numpy")),
    "keras": ("https://keras.io", _inventory("keras")),
    "tensorflow": ("https://www.tensorflow.org/api_docs/python", _inventory("tensorflow")),
}
