"""`tools/mm build`: `gn gen` the build folder when it has no build.ninja yet, then ninja.

Once build.ninja exists ninja itself re-runs gn whenever a BUILD.gn or .gn file changes, so
running `gn gen` every time would only cost time.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from . import paths, ui


def run(out: Path | None = None) -> None:
    out = out or paths.out_dir()
    if not (out / "build.ninja").exists():
        ui.step(f"gn gen --check {paths.rel(out)}")
        rc = subprocess.run(["gn", "gen", "--check", str(out)], cwd=paths.ROOT, check=False).returncode
        if rc != 0:
            raise ui.Fatal(f"`gn gen {paths.rel(out)}` failed (exit {rc}); see the messages above")
    ui.step(f"ninja -C {paths.rel(out)}")
    rc = subprocess.run(["ninja", "-C", str(out)], cwd=paths.ROOT, check=False).returncode
    if rc != 0:
        raise ui.Fatal(f"build failed (ninja exit {rc}); see the compiler messages above")


def require(binary: Path, what: str) -> Path:
    """Returns `binary`, or explains that it was not built."""
    if not binary.exists():
        raise ui.Fatal(f"{what} not built ({paths.rel(binary)} is missing): run tools/mm build")
    return binary
