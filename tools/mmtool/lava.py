"""LAVA job definitions for the kernel's tests and benchmarks (docs/fleet.md).

A job for a lab server (device type x86, boot method ipxe): LAVA downloads the kernel into
its TFTP folder, power-cycles the server, interrupts iPXE on the serial console, types
`dhcp`, `kernel tftp://SERVER/KERNEL CMDLINE` and `boot`, and reads the kernel's results from
the console with a `monitors` test (the kernel has no shell to log in to). mmkernel.elf for
servers that boot in BIOS mode, mmkernel.efi for UEFI ones (iPXE's EFI build loads EFI images
only; docs/netboot.md).

The same monitors run in a job for a QEMU device, which `tools/mm test` runs with lava-run on
this machine, so the patterns a lab relies on are checked on every test run.

The YAML is written by hand (the tools use the standard library only): block style, strings
quoted where YAML would read them otherwise.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import extract, netboot, qemu

KINDS = ("tests", "bench")
BOOTS = ("bios", "uefi")
KERNEL_FILES = {"bios": netboot.KERNEL_NAME, "uefi": netboot.EFI_KERNEL_NAME}

# The monitors' test suite names: LAVA's results of a job are grouped under them.
TESTS_SUITE = "mm-tests"
BENCH_SUITE = "mm-bench"

# A test case's line, from tests/harness/runner.c: "[  OK  ] suite.name" or "[ FAIL ] ...".
# The first "[ RUN  ]" line starts the monitor: every command line prints it, `quiet` too.
TESTS_MONITOR = {
    "name": TESTS_SUITE,
    "start": r"\[ RUN  \]",
    "end": r"\d+ passed, \d+ failed",
    "pattern": r"\[ *(?P<result>OK|FAIL) *\] (?P<test_case_id>[\w.]+)",
    "fixupdict": {"OK": "pass", "FAIL": "fail"},
}

# One benchmark per line of the JSON block, as the kernel prints it: each becomes a test case
# with its real_time as the measurement, so that LAVA's own results and charts show them. The
# whole document (every counter, the context) stays in the job's log, where `tools/mm
# extract` reads it: LAVA keeps at most 4 KiB of metadata per test case.
BENCH_MONITOR = {
    "name": BENCH_SUITE,
    "start": re.escape(extract.BEGIN),
    "end": re.escape(extract.END),
    "pattern": (r'\{"name": "(?P<test_case_id>[^"]+)",[^\n]*?"real_time": '
                r'(?P<measurement>[-+.0-9eE]+), "cpu_time": [-+.0-9eE]+, '
                r'"time_unit": "(?P<units>\w+)"'),
}


def monitor(kind: str) -> dict:
    return dict(TESTS_MONITOR if kind == "tests" else BENCH_MONITOR)


def default_cmdline(kind: str) -> str:
    return "tests" if kind == "tests" else "bench"


@dataclass
class Timeouts:
    """Minutes. The boot action's is also how long the monitor waits for the next line."""
    deploy: int = 5
    boot: int = 10
    test: int = 30
    job: int = 60


# A lab server: firmware, iPXE and DHCP take minutes; the whole test suite on a large machine
# (zeroing all of memory) some more.
SERVER_TIMEOUTS = Timeouts()
# QEMU on this machine: the whole test suite takes about 7 s under TCG.
QEMU_TIMEOUTS = Timeouts(deploy=1, boot=3, test=5, job=10)


@dataclass
class Job:
    kind: str              # tests or bench
    boot: str              # bios or uefi
    commit: str
    kernel_url: str        # where LAVA downloads the kernel from
    cmdline: str = ""
    device_type: str = "x86"
    tags: list[str] = field(default_factory=list)
    timeouts: Timeouts = field(default_factory=Timeouts)

    def name(self) -> str:
        return f"mm {self.kind} {self.commit} {self.boot}"

    def command_line(self) -> str:
        return self.cmdline or default_cmdline(self.kind)


def _head(job: Job, device_type: str) -> dict:
    doc = {"device_type": device_type, "job_name": job.name()}
    if job.tags:
        doc["tags"] = list(job.tags)
    doc.update({
        "priority": "medium",
        "visibility": "public",
        # tools/mm extract --lava-job reads the commit back from here.
        "metadata": {"mm.commit": job.commit, "mm.kind": job.kind, "mm.boot": job.boot,
                     "mm.cmdline": job.command_line()},
        "timeouts": {"job": {"minutes": job.timeouts.job},
                     "action": {"minutes": job.timeouts.test},
                     "connection": {"minutes": 2}},
    })
    return doc


def _test_action(job: Job) -> dict:
    return {"test": {"timeout": {"minutes": job.timeouts.test}, "monitors": [monitor(job.kind)]}}


def ipxe_commands(cmdline: str) -> list[str]:
    """What LAVA types at the iPXE prompt; it substitutes {SERVER_IP} (the worker) and
    {KERNEL} (the kernel's path in its TFTP folder)."""
    netboot.ipxe_script(cmdline)  # refuses what iPXE would change
    return ["dhcp", f"kernel tftp://{{SERVER_IP}}/{{KERNEL}} {cmdline}".rstrip(), "boot"]


def server_job(job: Job) -> dict:
    """A job for a lab server booting the kernel through iPXE (device type x86 or alike)."""
    doc = _head(job, job.device_type)
    doc["actions"] = [
        {"deploy": {"to": "tftp", "timeout": {"minutes": job.timeouts.deploy},
                    "kernel": {"url": job.kernel_url}}},
        {"boot": {"method": "ipxe", "timeout": {"minutes": job.timeouts.boot},
                  "commands": ipxe_commands(job.command_line())}},
        _test_action(job),
    ]
    return doc


def qemu_job(job: Job) -> dict:
    """The same test for a QEMU device (qemu_device): -kernel in place of iPXE."""
    doc = _head(job, "qemu")
    doc["context"] = {"arch": "x86_64"}
    append = job.command_line().replace('"', "")
    doc["actions"] = [
        {"deploy": {"to": "tmpfs", "timeout": {"minutes": job.timeouts.deploy},
                    "images": {"kernel": {"url": job.kernel_url,
                                          "image_arg": f'-kernel {{kernel}} -append "{append}"'}}}},
        {"boot": {"method": "qemu", "media": "tmpfs",
                  "timeout": {"minutes": job.timeouts.boot}}},
        _test_action(job),
    ]
    return doc


# Constants every device configuration needs and no document lists: lava-run stops with a
# ConfigurationError without them (LAVA's base.jinja2 template sets them for a server).
BASE_CONSTANTS = {
    "failure_retry": 1,
    "boot_retry": 1,
    "spawn_maxread": "4092",
    "kernel-start-message": "Linux version [0-9]",
    "shutdown-message": "The system is going down for reboot NOW",
    "default-shell-prompt": "lava-test: # ",
    "posix": {"lava_test_sh_cmd": "/bin/sh", "lava_test_results_dir": "/lava-%s",
              "lava_test_shell_file": "~/.bashrc"},
}


def qemu_device(machine: qemu.Machine) -> dict:
    """A rendered device configuration for lava-run: QEMU with the flags tools/mm boots
    the kernel with (qemu.build_argv), the kernel and its command line coming from the job."""
    argv = qemu.build_argv(machine, kernel=Path("KERNEL"), cmdline="")
    options = argv[1:argv.index("-kernel")]
    return {
        "device_type": "qemu",
        "available_architectures": ["x86_64"],
        "constants": dict(BASE_CONSTANTS),
        "actions": {
            "deploy": {"methods": {"image": None}},
            "boot": {"connections": {"serial": None},
                     "methods": {"qemu": {"parameters": {"command": argv[0],
                                                         "options": options}}}},
        },
        "timeouts": {"actions": {}, "connections": {}},
    }


# Stand-ins for a server's serial console (telnet to ser2net) and power control in a device
# configuration that jobs are validated against here: lava-run checks that the connection
# command exists, not what it reaches, and runs no power command when it validates.
STAND_IN_CONNECT = "telnet localhost 7001"
STAND_IN_POWER = "true"


def x86_device(connect: str, hard_reset: str, power_off: str, power_on: str,
               mac: str = "00:00:00:00:00:00") -> dict:
    """A rendered device configuration of type x86 with the ipxe boot method, as LAVA's
    x86.jinja2 renders it from a device dictionary (docs/fleet.md shows that dictionary):
    used to validate server jobs on this machine."""
    constants = dict(BASE_CONSTANTS)
    constants["ipxe"] = {"interrupt-prompt": "Press Ctrl-B for the iPXE command line",
                         "interrupt_ctrl_list": ["b"],
                         "error-messages": ["No configuration methods succeeded",
                                            "Connection timed out"]}
    return {
        "device_type": "x86",
        "constants": constants,
        "commands": {"connect": connect, "hard_reset": hard_reset, "power_off": power_off,
                     "power_on": power_on},
        "parameters": {"interfaces": {"target": {"ip": "", "mac": mac}}},
        "character_delays": {"boot": 500},
        "actions": {
            "deploy": {"methods": {"tftp": None}},
            "boot": {"connections": {"serial": None},
                     "methods": {"ipxe": {"parameters": {"bootloader_prompt": "iPXE>",
                                                         "use_bootscript": False,
                                                         "lava_mac": mac}}}},
        },
        "timeouts": {"actions": {"bootloader-retry": {"minutes": 2},
                                 "bootloader-interrupt": {"minutes": 5},
                                 "bootloader-commands": {"minutes": 5}},
                     "connections": {"bootloader-retry": {"minutes": 2},
                                     "bootloader-interrupt": {"minutes": 5},
                                     "bootloader-commands": {"minutes": 5}}},
    }


def file_name(kind: str, boot: str) -> str:
    return f"{kind}-{boot}.yaml"


# ---- YAML -------------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z_/][\w./@+-]*")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _scalar(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    if any(ord(c) < 32 or c == "\x7f" for c in text):
        return json.dumps(text)  # a JSON string is a YAML double-quoted string
    return "'" + text.replace("'", "''") + "'"


def _block(value, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{pad}{_scalar(key)}:"
            if isinstance(item, (dict, list)) and item:
                lines.append(head)
                lines += _block(item, indent + 2)
            elif isinstance(item, (dict, list)):
                lines.append(f"{head} {'{}' if isinstance(item, dict) else '[]'}")
            else:
                text = _scalar(item)
                lines.append(f"{head} {text}" if text else head)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                inner = _block(item, indent + 2)
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines += inner[1:]
            elif isinstance(item, list) and item:
                lines.append(f"{pad}-")
                lines += _block(item, indent + 2)
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        lines.append(pad + _scalar(value))
    return lines


def to_yaml(doc: dict, comment: str = "") -> str:
    head = "".join(f"# {line}\n" for line in comment.splitlines())
    return head + "\n".join(_block(doc, 0)) + "\n"
