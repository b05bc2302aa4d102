"""`tools/mm deps`: checks that the Debian packages the project needs are installed, and
installs the missing ones when running as root (every other subcommand but `extract` calls
this first, so the README's two commands work on a fresh machine).

The package list is tools/packages.txt, shared with .ci/run.
"""
from __future__ import annotations

import os
import shutil
import subprocess

from . import paths, ui

PACKAGES_FILE = paths.TOOLS / "packages.txt"

# What a non-Debian machine must provide instead, checked by command name.
COMMANDS = ["gn", "ninja", "clang", "clang++", "ld.lld", "llvm-ar", "qemu-system-x86_64"]


def read_packages(text: str | None = None) -> list[str]:
    """Package names from tools/packages.txt (or from `text`): one per line, '#' comments."""
    if text is None:
        text = PACKAGES_FILE.read_text(encoding="utf-8")
    names = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    return names


def parse_dpkg_query(output: str) -> set[str]:
    """Installed package names from `dpkg-query -W -f='${Package}\\t${db:Status-Abbrev}\\n'`.

    A package is installed when its status abbreviation starts with "ii"; anything else
    ("un", "rc", half-installed...) means it must be (re)installed.
    """
    installed = set()
    for line in output.splitlines():
        name, _, status = line.partition("\t")
        name = name.strip().split(":", 1)[0]  # "libfoo:amd64" -> "libfoo"
        if name and status.startswith("ii"):
            installed.add(name)
    return installed


def missing_packages(packages: list[str]) -> list[str]:
    # dpkg-query exits 1 when one of the names is unknown to dpkg; its stdout still lists
    # the known ones, so the exit status is ignored and stdout decides.
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package}\t${db:Status-Abbrev}\n", *packages],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=False)
    installed = parse_dpkg_query(proc.stdout)
    return [p for p in packages if p not in installed]


def install_line(missing: list[str], root: bool) -> str:
    sudo = "" if root else "sudo "
    return f"{sudo}apt-get update && {sudo}apt-get install -y {' '.join(missing)}"


def ensure(install: bool = True) -> None:
    """Returns when everything is present; raises ui.Fatal with the fix otherwise."""
    packages = read_packages()
    if shutil.which("dpkg-query") is None:
        # Not Debian: packages cannot be checked, but the commands the build needs can.
        absent = [c for c in COMMANDS if shutil.which(c) is None]
        if absent:
            raise ui.Fatal("not a Debian system and these commands are missing: "
                           f"{', '.join(absent)} (the Debian packages are: {' '.join(packages)})")
        ui.warn("not a Debian system: package versions are not checked")
        return

    missing = missing_packages(packages)
    if not missing:
        return
    root = os.geteuid() == 0
    if not (root and install):
        raise ui.Fatal(f"missing Debian packages: {' '.join(missing)}\n"
                       f"install them with:\n  {install_line(missing, root)}")

    ui.step(f"installing missing packages: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    log = paths.logs_dir() / "packages.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", *missing]):
        # apt's hundreds of lines go to the log unless verbose; the end shows on a failure.
        with open(log, "a", encoding="utf-8") as f:
            sink = None if ui.verbose() else f
            rc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=sink,
                                stderr=subprocess.STDOUT if sink else None, check=False).returncode
        if rc != 0:
            raise ui.Fatal(f"`{' '.join(cmd)}` failed; fix the package source and re-run"
                           + ("" if ui.verbose() else f"; the end of {paths.rel(log)}:\n"
                              f"{ui.tail(log, 20)}"))
    still = missing_packages(packages)
    if still:
        raise ui.Fatal(f"still missing after apt-get install: {' '.join(still)}")
