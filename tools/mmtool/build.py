"""`tools/mm build`: `gn gen` the build folder when it has no build.ninja yet, then ninja.

Once build.ninja exists ninja itself re-runs gn whenever a BUILD.gn or .gn file changes, so
running `gn gen` every time would only cost time.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from . import paths, ui


def _run(argv: list[str], what: str) -> int:
    """Runs argv from the repository root: on the terminal when verbose, else into
    out/logs/build.log, whose last lines are shown if it fails."""
    if ui.verbose():
        ui.step(" ".join(argv[:1] + [paths.rel(Path(a)) if "/" in a else a for a in argv[1:]]))
        return subprocess.run(argv, cwd=paths.ROOT, check=False).returncode
    log = paths.logs_dir() / "build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as f:
        f.write(f"$ {' '.join(argv)}\n")
        f.flush()
        rc = subprocess.run(argv, cwd=paths.ROOT, stdout=f, stderr=subprocess.STDOUT,
                            check=False).returncode
    if rc != 0:
        ui.warn(f"{what} failed; the end of {paths.rel(log)}:\n{ui.tail(log, 30)}")
    return rc


def run(out: Path | None = None) -> None:
    out = out or paths.out_dir()
    if not ui.verbose():
        (paths.logs_dir() / "build.log").unlink(missing_ok=True)
    if not (out / "build.ninja").exists():
        rc = _run(["gn", "gen", "--check", str(out)], "gn gen")
        if rc != 0:
            raise ui.Fatal(f"`gn gen {paths.rel(out)}` failed (exit {rc}); see the messages above")
    rc = _run(["ninja", "-C", str(out)], "the build")
    if rc != 0:
        raise ui.Fatal(f"build failed (ninja exit {rc}); see the compiler messages above")


def require(binary: Path, what: str) -> Path:
    """Returns `binary`, or explains that it was not built."""
    if not binary.exists():
        raise ui.Fatal(f"{what} not built ({paths.rel(binary)} is missing): run tools/mm build")
    return binary
