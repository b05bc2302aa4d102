"""`tools/mm build`: the packages, then gn gen (when needed) and ninja."""
from __future__ import annotations

from . import build, deps


def cmd_build(args) -> int:
    deps.ensure()
    build.run()
    return 0
