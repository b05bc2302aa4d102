"""Describing where figures came from: the host CPU, its memory, and the commit.

Every benchmark report names these, since a figure without its machine and commit cannot be
compared with anything.
"""
from __future__ import annotations

import os
import subprocess

from . import paths


def cpu_model(cpuinfo: str) -> str:
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return "unknown CPU"


def memory_mib(meminfo: str) -> int:
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 0


def numa_nodes(node_dir: str = "/sys/devices/system/node") -> int:
    """NUMA nodes the host's kernel knows (node0, node1, ...); 1 where it says nothing."""
    try:
        names = os.listdir(node_dir)
    except OSError:
        return 1
    return max(1, sum(1 for n in names if n.startswith("node") and n[4:].isdigit()))


def virtualisation(cpuinfo: str) -> str:
    """Whether this host can give guests hardware virtualisation (KVM) or only TCG."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            flags = value.split()
            if "vmx" in flags or "svm" in flags:
                return "hardware virtualisation (KVM possible)"
            return "no hardware virtualisation (TCG)"
    return "virtualisation unknown"


def host() -> dict:
    cpuinfo = paths.read_text_or_empty("/proc/cpuinfo")
    return {
        "cpu_model": cpu_model(cpuinfo),
        "cpus": os.cpu_count() or 0,
        "memory_mib": memory_mib(paths.read_text_or_empty("/proc/meminfo")),
        "numa_nodes": numa_nodes(),
        "virtualisation": virtualisation(cpuinfo),
    }


def _git(*args: str) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", "-C", str(paths.ROOT), *args], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, check=False)
    except FileNotFoundError:
        return None


def commit_id() -> str:
    """Short commit, with "-dirty" when the tree differs from it ("nocommit" before the
    first commit, "nogit" without git). Untracked files count (unless git ignores them, as
    out/ and results/): a new source file changes what gets built."""
    head = _git("rev-parse", "--short", "HEAD")
    if head is None:
        return "nogit"
    if head.returncode != 0 or not head.stdout.strip():
        return "nocommit-dirty"  # before the first commit everything is uncommitted
    status = _git("status", "--porcelain")
    dirty = status is None or status.returncode != 0 or status.stdout.strip() != ""
    return f"{head.stdout.strip()}-dirty" if dirty else head.stdout.strip()
