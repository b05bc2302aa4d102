"""`tools/mm deps`: checks that the Debian packages the project needs are installed, and
installs the missing ones when running as root (every other subcommand but `extract` calls
this first, so the README's two commands work on a fresh machine).

The package list is tools/packages.txt, shared with .ci/run. A line may name the word
`no-recommends` after the package: that one is installed with --no-install-recommends (LAVA's
dispatcher recommends a whole lab's tools, from NFS and LXC servers to other architectures'
QEMU), the others with apt's default.
"""
from __future__ import annotations

import os
import shutil
import subprocess

from dataclasses import dataclass

from . import paths, ui

PACKAGES_FILE = paths.TOOLS / "packages.txt"
NO_RECOMMENDS = "no-recommends"

# What a non-Debian machine must provide instead, checked by command name.
COMMANDS = ["gn", "ninja", "clang", "clang++", "ld.lld", "llvm-ar", "qemu-system-x86_64"]


@dataclass
class Package:
    name: str
    recommends: bool = True  # installed with its recommended packages (apt's default)


def read_package_list(text: str | None = None) -> list[Package]:
    """The packages of tools/packages.txt (or of `text`): one per line, '#' comments, the
    word no-recommends after a name to install it without its recommended packages."""
    if text is None:
        text = PACKAGES_FILE.read_text(encoding="utf-8")
    packages = []
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1] != NO_RECOMMENDS):
            raise ui.Fatal(f"{paths.rel(PACKAGES_FILE)} line {number}: expected a package name, "
                           f"optionally followed by {NO_RECOMMENDS}: {line.strip()!r}")
        packages.append(Package(words[0], len(words) == 1))
    return packages


def read_packages(text: str | None = None) -> list[str]:
    """Package names from tools/packages.txt (or from `text`)."""
    return [p.name for p in read_package_list(text)]


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


def install_commands(missing: list[Package]) -> list[list[str]]:
    """apt-get install for the missing packages: one command for those installed with their
    recommendations, one with --no-install-recommends for the others."""
    commands = []
    for recommends in (True, False):
        names = [p.name for p in missing if p.recommends == recommends]
        if names:
            option = [] if recommends else ["--no-install-recommends"]
            commands.append(["apt-get", "install", "-y", *option, *names])
    return commands


def install_line(missing: list[str] | list[Package], root: bool) -> str:
    sudo = "" if root else "sudo "
    packages = [p if isinstance(p, Package) else Package(p) for p in missing]
    return " && ".join(f"{sudo}{' '.join(c)}"
                       for c in [["apt-get", "update"], *install_commands(packages)])


def ensure(install: bool = True) -> None:
    """Returns when everything is present; raises ui.Fatal with the fix otherwise."""
    listed = read_package_list()
    packages = [p.name for p in listed]
    if shutil.which("dpkg-query") is None:
        # Not Debian: packages cannot be checked, but the commands the build needs can.
        absent = [c for c in COMMANDS if shutil.which(c) is None]
        if absent:
            raise ui.Fatal("not a Debian system and these commands are missing: "
                           f"{', '.join(absent)} (the Debian packages are: {' '.join(packages)})")
        ui.warn("not a Debian system: package versions are not checked")
        return

    names = set(missing_packages(packages))
    missing = [p for p in listed if p.name in names]
    if not missing:
        return
    root = os.geteuid() == 0
    if not (root and install):
        raise ui.Fatal(f"missing Debian packages: {' '.join(p.name for p in missing)}\n"
                       f"install them with:\n  {install_line(missing, root)}")

    ui.step(f"installing missing packages: {' '.join(p.name for p in missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    log = paths.logs_dir() / "packages.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    for cmd in (["apt-get", "update"], *install_commands(missing)):
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
