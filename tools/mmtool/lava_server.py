"""A finished job's log and facts from a LAVA server, through lavacli (Debian's lavacli;
`lavacli identities add` stores the server's URL and token once): the log as the server keeps
it (`jobs logs --raw`), the device that ran it (`jobs show --json`), and the commit that
`tools/mm lava` wrote into the definition's metadata (`jobs definition`).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass

from . import ui

LAVACLI = "lavacli"


@dataclass
class Job:
    job_id: str
    log: str            # the records, one "- {...}" line each
    device: str         # the device's hostname: the machine its results belong to
    device_type: str
    state: str          # Finished, Running, ...
    health: str         # Complete, Incomplete, Canceled, ...
    commit: str | None  # metadata mm.commit of a job tools/mm lava wrote


def _lavacli(identity: str | None, *args: str) -> str:
    if shutil.which(LAVACLI) is None:
        raise ui.Fatal(f"{LAVACLI} not found: apt-get install lavacli, then add the server with "
                       "lavacli identities add (docs/fleet.md)")
    argv = [LAVACLI, *(["-i", identity] if identity else []), *args]
    r = subprocess.run(argv, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise ui.Fatal(f"`{' '.join(argv)}` failed (exit {r.returncode}): "
                       f"{(r.stderr or r.stdout).strip()[-300:]}")
    return r.stdout


def commit_of_definition(definition: str) -> str | None:
    """The commit a definition written by tools/mm lava names in its metadata."""
    m = re.search(r"^\s*mm\.commit:\s*'?([0-9A-Za-z._-]+)'?\s*$", definition, re.MULTILINE)
    return m.group(1) if m else None


def fetch(job_id: str, identity: str | None = None) -> Job:
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", job_id):
        raise ui.Fatal(f"--lava-job {job_id!r}: a LAVA job id is a number (1234, or 1234.0 "
                       "for a multinode job)")
    try:
        show = json.loads(_lavacli(identity, "jobs", "show", "--json", job_id))
    except json.JSONDecodeError as e:
        raise ui.Fatal(f"lavacli jobs show --json {job_id}: not JSON: {e}") from None
    log = _lavacli(identity, "jobs", "logs", "--raw", "--no-follow", job_id)
    definition = _lavacli(identity, "jobs", "definition", job_id)
    return Job(job_id, log, str(show.get("device") or ""), str(show.get("device_type") or ""),
               str(show.get("state") or ""), str(show.get("health") or ""),
               commit_of_definition(definition))
