"""`tools/mm deps`: check, and as root install, the Debian packages of tools/packages.txt."""
from __future__ import annotations

from . import deps, ui


def cmd_deps(args) -> int:
    deps.ensure(install=not args.check)
    ui.info("all required packages are installed")
    return 0
