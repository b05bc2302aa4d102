"""Results that travel with the repository: every `tools/mm bench` run of a clean commit is
also stored in a git note on that commit, under refs/notes/mm-bench, keyed by machine, as
git-perf does. `git push origin refs/notes/mm-bench` and
`git fetch origin refs/notes/mm-bench:refs/notes/mm-bench` carry them between clones, so
results made on a server or a workstation can be compared anywhere. results/<commit>/ stays
as the local cache: `tools/mm compare` fills it from the notes (--machine picks whose) before
it would benchmark a commit again.

A note is one JSON document: {"format": 1, "machines": {MACHINE: {"host": {...},
"files": {"kernel.json": {...}, ...}}}}. A new run replaces its own machine's entry only.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

from . import paths, ui

REF = "refs/notes/mm-bench"
FORMAT = 1


def this_machine() -> str:
    """The key of this machine's results: MM_MACHINE, else the host name."""
    return os.environ.get("MM_MACHINE") or socket.gethostname() or "unknown"


def _git(*args: str, stdin: str | None = None, root: Path | None = None
         ) -> subprocess.CompletedProcess:
    # A note is a commit on the notes ref: where git knows no identity (a CI machine), the
    # tool signs it itself rather than fail.
    env = dict(os.environ)
    for who in ("AUTHOR", "COMMITTER"):
        env.setdefault(f"GIT_{who}_NAME", _config("user.name", root) or "tools/mm")
        env.setdefault(f"GIT_{who}_EMAIL", _config("user.email", root) or "mm@localhost")
    return subprocess.run(["git", "-C", str(root or paths.ROOT), *args], input=stdin,
                          capture_output=True, text=True, check=False, env=env)


def _config(key: str, root: Path | None) -> str:
    r = subprocess.run(["git", "-C", str(root or paths.ROOT), "config", key],
                       capture_output=True, text=True, check=False)
    return r.stdout.strip()


def read(commit: str, root: Path | None = None) -> dict:
    """The note on commit (an empty document when there is none or it is not ours)."""
    r = _git("notes", f"--ref={REF}", "show", commit, root=root)
    if r.returncode != 0:
        return {"format": FORMAT, "machines": {}}
    try:
        doc = json.loads(r.stdout)
    except json.JSONDecodeError:
        return {"format": FORMAT, "machines": {}}
    doc.setdefault("machines", {})
    return doc


def write_run(commit: str, machine: str, host: dict, folder: Path,
              root: Path | None = None) -> bool:
    """Stores the JSON results of folder as machine's entry in commit's note."""
    files = {}
    for path in sorted(folder.glob("*.json")):
        try:
            files[path.name] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
    if not files:
        return False
    doc = read(commit, root)
    doc["format"] = FORMAT
    doc["machines"][machine] = {"host": host, "files": files}
    r = _git("notes", f"--ref={REF}", "add", "-f", "-F", "-", commit,
             stdin=json.dumps(doc, sort_keys=True) + "\n", root=root)
    if r.returncode != 0:
        ui.warn(f"git notes: could not store the results: {r.stderr.strip()}")
        return False
    return True


def noted_commits(root: Path | None = None) -> list[str]:
    """The full ids of the commits that have a note."""
    r = _git("notes", f"--ref={REF}", "list", root=root)
    return [line.split()[1] for line in r.stdout.splitlines() if len(line.split()) == 2]


def short(commit: str, root: Path | None = None) -> str:
    """The short id git gives commit (the name of its folder in results/)."""
    r = _git("rev-parse", "--short", commit, root=root)
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else commit[:7]


def machines(commit: str, root: Path | None = None) -> list[str]:
    return sorted(read(commit, root)["machines"])


def restore(commit: str, machine: str, folder: Path, root: Path | None = None) -> bool:
    """Writes machine's results for commit from the note into folder (the cache). False
    when the note has none for that machine."""
    entry = read(commit, root)["machines"].get(machine)
    if not entry or not entry.get("files"):
        return False
    folder.mkdir(parents=True, exist_ok=True)
    for name, doc in entry["files"].items():
        if "/" in name or not name.endswith(".json"):
            continue  # a note is data from elsewhere: it names files in the folder only
        (folder / name).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return True
