"""Importing a Python module that a Debian package installs (python3-scipy,
python3-matplotlib), also when tools/mm runs under another Python 3 than Debian's.

Debian's packages go to /usr/lib/python3/dist-packages, which only /usr/bin/python3 searches.
A developer machine whose PATH puts a pyenv or self-built python3 first runs tools/mm with
that one: for it the folder is added to the end of sys.path, which works when its minor
version is Debian's (the compiled parts are built for it) and otherwise fails with a message
that says which interpreter ran.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

from . import ui

DIST_PACKAGES = Path("/usr/lib/python3/dist-packages")


def load(module: str, package: str) -> ModuleType:
    """Imports `module`, which the Debian package `package` provides; ui.Fatal if it can't."""
    try:
        return importlib.import_module(module)
    except ImportError:
        pass
    # The package may have been installed by this very process (tools/mm deps, on a fresh
    # machine) after the import system listed the folder: forget those listings first.
    importlib.invalidate_caches()
    if DIST_PACKAGES.is_dir() and str(DIST_PACKAGES) not in sys.path:
        sys.path.append(str(DIST_PACKAGES))
    try:
        return importlib.import_module(module)
    except ImportError:
        pass
    raise ui.Fatal(f"Python module {module} not found by {sys.executable} (Python "
                   f"{sys.version.split()[0]}): install the Debian package {package} "
                   "(tools/mm deps), and run tools/mm with Debian's /usr/bin/python3 if this "
                   "interpreter is another one")
